// Helpers around the official phoenix.js client, running in Node with `ws` as its WebSocket.
import { Socket } from 'phoenix'
import WebSocket from 'ws'
import { within, DEFAULT_WAIT_MS } from './timing.mjs'

const sockets = new Set()

// A phoenix Socket that is not connected yet. Short push timeouts keep pending timers from
// holding the test process open for phoenix.js's default 10 s.
export function phxSocket(server, { mount = '/socket', ...options } = {}) {
  const socket = new Socket(server.socketEndpoint(mount), {
    transport: WebSocket,
    timeout: DEFAULT_WAIT_MS,
    ...options,
  })
  socket.closeCodes = []
  socket.opens = 0
  socket.onClose((event) => socket.closeCodes.push(event.code))
  socket.onOpen(() => { socket.opens += 1 })
  sockets.add(socket)
  return socket
}

// Connects and waits for the socket to open.
export async function connectPhx(server, { openTimeoutMs = DEFAULT_WAIT_MS, ...options } = {}) {
  const socket = phxSocket(server, options)
  const opened = new Promise((resolve, reject) => {
    socket.onOpen(() => resolve(socket))
    socket.onError((err) => reject(new Error(`phoenix socket error: ${err?.message ?? err}`)))
  })
  socket.connect()
  try {
    return await within(opened, openTimeoutMs, 'the phoenix socket to open')
  } catch (err) {
    socket.disconnect()
    throw err
  }
}

// Resolves with the outcome of one join attempt: {status: "ok" | "error" | "timeout", response}.
export function joinResult(channel, timeoutMs = DEFAULT_WAIT_MS) {
  return within(new Promise((resolve) => {
    channel.join(timeoutMs)
      .receive('ok', (response) => resolve({ status: 'ok', response }))
      .receive('error', (response) => resolve({ status: 'error', response }))
      .receive('timeout', () => resolve({ status: 'timeout', response: null }))
  }), timeoutMs + 1_000, `join reply on ${channel.topic}`)
}

// Joins a topic and fails unless the join is accepted.
export async function joinOk(socket, topic, payload = {}, timeoutMs = DEFAULT_WAIT_MS) {
  const channel = socket.channel(topic, payload)
  const result = await joinResult(channel, timeoutMs)
  if (result.status !== 'ok') {
    throw new Error(`join ${topic} failed: ${result.status} ${JSON.stringify(result.response)}`)
  }
  channel.joinResponse = result.response
  return channel
}

// Pushes an event and resolves with {status, response} of its reply ("timeout" if none).
export function pushResult(channel, event, payload = {}, timeoutMs = DEFAULT_WAIT_MS) {
  return within(new Promise((resolve) => {
    channel.push(event, payload, timeoutMs)
      .receive('ok', (response) => resolve({ status: 'ok', response }))
      .receive('error', (response) => resolve({ status: 'error', response }))
      .receive('timeout', () => resolve({ status: 'timeout', response: null }))
  }), timeoutMs + 1_000, `reply to ${event} on ${channel.topic}`)
}

// Pushes an event that gets no reply (shout, crash): its timeout timer would only keep the
// test process alive, so it is cancelled.
export function cast(channel, event, payload = {}) {
  const push = channel.push(event, payload)
  push.cancelTimeout()
  return push
}

// Records every payload of one event on a channel.
export class EventLog {
  constructor(channel, event) {
    this.event = event
    this.topic = channel.topic
    this.payloads = []
    this.read = 0
    this.waiters = []
    channel.on(event, (payload) => {
      this.payloads.push(payload)
      for (const wake of this.waiters.splice(0)) wake()
    })
  }

  get count() {
    return this.payloads.length
  }

  // Waits until at least n payloads were recorded.
  async waitFor(n, timeoutMs = DEFAULT_WAIT_MS) {
    const reached = new Promise((resolve) => {
      const check = () => (this.payloads.length >= n ? resolve() : this.waiters.push(check))
      check()
    })
    await within(reached, timeoutMs, `${n} "${this.event}" events on ${this.topic} (got ${this.payloads.length})`)
    return this.payloads
  }

  // The oldest payload not returned by next() yet, waiting for it if needed.
  async next(timeoutMs) {
    const payloads = await this.waitFor(this.read + 1, timeoutMs)
    return payloads[this.read++]
  }
}

// A phoenix.js (WebSocket) member of `topic` that records the room's "left" and "shout" broadcasts.
export async function observeTopic(server, topic, user = 'observer', options = {}) {
  const socket = await connectPhx(server, options)
  const channel = await joinOk(socket, topic, { user })
  return { socket, channel, left: new EventLog(channel, 'left'), shouts: new EventLog(channel, 'shout') }
}

// Waits for the next close of the socket's connection and resolves with its close code.
export function nextClose(socket, timeoutMs = DEFAULT_WAIT_MS) {
  const seen = socket.closeCodes.length
  return within(new Promise((resolve) => {
    const ref = socket.onClose(() => {
      socket.off([ref])
      resolve(socket.closeCodes[seen])
    })
  }), timeoutMs, 'the phoenix socket to close')
}

export async function disconnectAll() {
  const all = [...sockets]
  sockets.clear()
  await Promise.all(all.map((socket) => within(
    new Promise((resolve) => socket.disconnect(resolve)), 2_000, 'phoenix disconnect').catch(() => {})))
}
