'use strict';
// A call driven through the stock npm ari-client (Swagger-based) against
// the simulator, run by sim's TestStockARIClient:
//
//   node scenario.js URL USER PASS      (URL: http://host:port)
//
// ari-client loads /ari/api-docs first and builds its methods from the
// declared nicknames; the scenario then originates a channel into its
// application, plays a sound, bridges and records the channel, and hangs
// up, waiting for each event. It prints one "step:" line per step and a
// final "result:" JSON line, and exits 0 only when every step passed.

const ari = require('ari-client');

const APP = 'ari-client-scenario';

function step(msg) {
  console.log('step: ' + msg);
}

// waitFor resolves with the first `type` event for which match is true.
// Call it before the request that causes the event, so none is missed.
function waitFor(client, type, match) {
  return new Promise((resolve) => {
    function listener(event, instances) {
      if (match(event)) {
        client.removeListener(type, listener);
        resolve({ event, instances });
      }
    }
    client.on(type, listener);
  });
}

function expect(cond, what) {
  if (!cond) {
    throw new Error('expected ' + what);
  }
}

async function main(url, user, pass) {
  const client = await ari.connect(url, user, pass);
  step('connected; api-docs loaded');
  const needed = {
    channels: ['originate', 'originateWithId', 'answer', 'play', 'hangup', 'get'],
    bridges: ['create', 'addChannel', 'record', 'destroy'],
    recordings: ['stop', 'getStored'],
    events: ['eventWebsocket'],
  };
  for (const [resource, ops] of Object.entries(needed)) {
    for (const op of ops) {
      expect(client[resource] && typeof client[resource][op] === 'function', `client.${resource}.${op}`);
    }
  }
  expect(client.channels.externalMedia === undefined, 'no client.channels.externalMedia (not modelled, not listed)');

  await client.start(APP);
  step('websocket started for ' + APP);

  const channel = client.Channel();
  const started = waitFor(client, 'StasisStart', (e) => e.channel.id === channel.id);
  const originated = await channel.originate({ endpoint: 'SIM/answer', app: APP, appArgs: 'scenario' });
  expect(originated.id === channel.id, `originate to answer with id ${channel.id}, got ${originated.id}`);
  const { event: stasisStart, instances: startedChannel } = await started;
  expect(typeof startedChannel.answer === 'function', 'StasisStart to carry a Channel instance');
  expect(stasisStart.application === APP, 'StasisStart for ' + APP);
  step(`StasisStart ${stasisStart.channel.id} (${stasisStart.channel.state})`);

  await startedChannel.answer();
  const got = await client.channels.get({ channelId: channel.id });
  expect(got.state === 'Up', 'channel Up after answer, got ' + got.state);
  step('answered');

  const playback = client.Playback();
  const played = waitFor(client, 'PlaybackFinished', (e) => e.playback.id === playback.id);
  await channel.play({ media: 'sound:hello-world' }, playback);
  const { event: finished } = await played;
  expect(finished.playback.state === 'done', 'playback done, got ' + finished.playback.state);
  step('PlaybackFinished ' + finished.playback.id);

  const bridge = client.Bridge();
  await bridge.create({ type: 'mixing' });
  const entered = waitFor(client, 'ChannelEnteredBridge',
    (e) => e.bridge.id === bridge.id && e.channel.id === channel.id);
  await bridge.addChannel({ channel: channel.id });
  await entered;
  step('ChannelEnteredBridge ' + bridge.id);

  const recording = client.LiveRecording();
  const recStarted = waitFor(client, 'RecordingStarted', (e) => e.recording.name === recording.name);
  const recFinished = waitFor(client, 'RecordingFinished', (e) => e.recording.name === recording.name);
  await bridge.record({ format: 'wav' }, recording);
  await recStarted;
  await recording.stop();
  const { event: recDone } = await recFinished;
  step(`RecordingFinished ${recDone.recording.name} (${recDone.recording.state})`);
  const stored = await client.recordings.getStored({ recordingName: recording.name });
  expect(stored.name === recording.name && stored.format === 'wav', 'stored wav recording ' + recording.name);

  const ended = waitFor(client, 'StasisEnd', (e) => e.channel.id === channel.id);
  const destroyed = waitFor(client, 'ChannelDestroyed', (e) => e.channel.id === channel.id);
  await channel.hangup();
  await ended;
  await destroyed;
  step('StasisEnd and ChannelDestroyed ' + channel.id);

  await bridge.destroy();
  client.stop();
  console.log('result: ' + JSON.stringify({ channel: channel.id, bridge: bridge.id, recording: recording.name }));
}

const [url, user, pass] = process.argv.slice(2);
if (!url || !user || !pass) {
  console.error('usage: node scenario.js URL USER PASS');
  process.exit(2);
}
main(url, user, pass).then(
  () => process.exit(0),
  (err) => {
    console.error('scenario failed:', (err && err.stack) || err);
    process.exit(1);
  });
