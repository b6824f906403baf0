# A throw-away Debian 12 host for CI's Ansible job: systemd as PID 1 (the docker role starts
# Docker as a service), sshd for Ansible, python3 for its modules. Run privileged, with its own
# /var/lib/docker volume (Docker runs inside it) and the host's cgroups:
#   docker build -t marketplace-target -f ansible/ci/target.Dockerfile ansible/ci
#   docker run -d --privileged --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
#     -v /var/lib/docker --tmpfs /run --tmpfs /run/lock -p 2222:22 -p 8443:443 marketplace-target
FROM debian:12.11-slim
ENV container=docker
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends systemd systemd-sysv dbus openssh-server python3 sudo ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -m 700 /root/.ssh \
    && systemctl enable ssh \
    && systemctl mask getty@tty1.service console-getty.service systemd-logind.service
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
