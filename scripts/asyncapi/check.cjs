// Validates the AsyncAPI document with the AsyncAPI parser (its $refs are local files only, so
// it runs offline), then checks it against docs/events, which the Rust types generate: every
// stream directory is a channel whose messages are exactly its producer's event types, each
// message's payload is $ref './events/<stream>/<type>.json', the stream has one send operation
// with every message, and every reader directory <stream>/<group>/ is a receive operation with
// `x-consumer-group: <group>` whose messages are exactly the types that group reads.
// Usage: node check.cjs docs/asyncapi.yaml docs/events
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const { Parser, fromFile, DiagnosticSeverity } = require('@asyncapi/parser');

const [documentPath, eventsDir] = process.argv.slice(2);
const problems = [];
const problem = (message) => problems.push(`${documentPath}: ${message}`);

const listing = (dir, keep) =>
  fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter(keep).map((entry) => entry.name).sort() : [];
const dirs = (dir) => listing(dir, (entry) => entry.isDirectory());
const types = (dir) =>
  listing(dir, (entry) => entry.isFile() && entry.name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length));
const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
const messageNames = (operation, channel) =>
  (operation.messages || []).map((message) => {
    const prefix = `#/channels/${channel}/messages/`;
    const ref = message.$ref || '';
    if (!ref.startsWith(prefix)) problem(`operation message ${ref} is not a message of channel ${channel}`);
    return ref.slice(prefix.length);
  });

function checkAgainstEvents(doc) {
  const channels = doc.channels || {};
  const operations = Object.entries(doc.operations || {});
  const messages = (doc.components || {}).messages || {};
  const streams = dirs(eventsDir);
  if (streams.length === 0) problem(`no stream directory in ${eventsDir}`);
  for (const stream of streams) {
    const channel = channels[stream];
    if (!channel) {
      problem(`no channel ${stream}, which docs/events has`);
      continue;
    }
    if (channel.address !== stream) problem(`channel ${stream} has address ${channel.address}`);
    const published = types(path.join(eventsDir, stream));
    const listed = Object.keys(channel.messages || {});
    if (!same(listed, published)) problem(`channel ${stream} lists [${listed}], its producer publishes [${published}]`);
    for (const type of published) {
      const ref = ((channel.messages || {})[type] || {}).$ref || '';
      const message = messages[ref.replace('#/components/messages/', '')];
      const payload = message && message.payload && message.payload.$ref;
      if (payload !== `./events/${stream}/${type}.json`) problem(`message ${type} has payload ${payload}, not ./events/${stream}/${type}.json`);
      if (message && message.name !== type) problem(`message ${type} is named ${message.name}`);
    }
    const channelOf = (operation) => (operation.channel || {}).$ref === `#/channels/${stream}`;
    const sends = operations.filter(([, operation]) => operation.action === 'send' && channelOf(operation));
    if (sends.length !== 1) problem(`channel ${stream} has ${sends.length} send operations, not one`);
    for (const [name, operation] of sends) {
      const sent = messageNames(operation, stream);
      if (!same(sent, published)) problem(`operation ${name} sends [${sent}], the producer publishes [${published}]`);
    }
    for (const group of dirs(path.join(eventsDir, stream))) {
      const read = types(path.join(eventsDir, stream, group));
      const receives = operations.filter(
        ([, operation]) => operation.action === 'receive' && channelOf(operation) && operation['x-consumer-group'] === group,
      );
      if (receives.length !== 1) {
        problem(`channel ${stream} has ${receives.length} receive operations of group ${group}, not one`);
        continue;
      }
      const [name, operation] = receives[0];
      const received = messageNames(operation, stream);
      if (!same(received, read)) problem(`operation ${name} receives [${received}], group ${group} reads [${read}]`);
    }
  }
  for (const [name, operation] of operations) {
    const group = operation['x-consumer-group'];
    const stream = ((operation.channel || {}).$ref || '').replace('#/channels/', '');
    if (group && !fs.existsSync(path.join(eventsDir, stream, group))) problem(`operation ${name}: no reader schemas in docs/events/${stream}/${group}`);
  }
}

async function main() {
  const parsed = await fromFile(new Parser(), documentPath).parse();
  for (const diagnostic of parsed.diagnostics) {
    if (diagnostic.severity === DiagnosticSeverity.Error) {
      problem(`${diagnostic.code} at ${diagnostic.path.join('.') || '(top)'}: ${diagnostic.message}`);
    }
  }
  if (!parsed.document) problem('the AsyncAPI parser rejected the document');
  checkAgainstEvents(yaml.load(fs.readFileSync(documentPath, 'utf8')));
  if (problems.length > 0) {
    console.log(problems.join('\n'));
    console.log(`[event-schemas] ${documentPath}: ${problems.length} problem(s)`);
    process.exit(1);
  }
  const messages = parsed.document.allMessages().length;
  console.log(`[event-schemas] ${documentPath} is valid AsyncAPI ${parsed.document.version()}: ${messages} messages, every event type and reader of ${eventsDir}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
