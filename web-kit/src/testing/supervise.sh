# The supervisor of one test server (web_kit::testing). Arguments: the server's working directory,
# then the server's command line. It obeys one command per line on standard input and echoes each
# command back on standard output once done:
#   start  start the server (stopping it first if it runs)
#   stop   stop it and wait until it has exited
#   wipe   delete its data files
# At the end of standard input (the test process closed it, or exited or died, even by SIGKILL)
# it stops the server and removes the directory: no server outlives the test process.

# Outlive the test process long enough to clean up: a Ctrl-C (or `timeout`'s SIGTERM) reaches
# the whole process group, and the test process may be gone before an answer is written.
trap '' INT TERM HUP PIPE

dir=$1
shift
cd "$dir" || exit 1
pid=

stop() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    # A server frozen with SIGSTOP acts on SIGTERM only once it runs again.
    kill -CONT "$pid" 2>/dev/null
    wait "$pid"
    pid=
  fi
}

while read -r command; do
  case $command in
    start)
      stop
      "$@" </dev/null >>server.log 2>&1 &
      pid=$!
      ;;
    stop) stop ;;
    wipe) rm -rf dump.rdb appendonlydir ;;
    *) echo "unknown command: $command" >&2 ;;
  esac
  echo "$command"
done

stop
cd / && rm -rf "$dir"
