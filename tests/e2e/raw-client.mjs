// A plain `ws` client for tests that need exact frames, malformed input or handshake details.
import WebSocket from 'ws'
import { within, DEFAULT_WAIT_MS } from './timing.mjs'

const open = new Set()

// Joins of room:* also push presence_state and broadcast presence_diff. Tests of other frames set
// those aside (in `presence`); presence.test.mjs asserts them exactly.
export function isPresenceFrame(message) {
  const event = Array.isArray(message) ? message[3] : message?.event
  return event === 'presence_state' || event === 'presence_diff'
}

// Whether a V2 presence frame tells of `key`'s join: a presence_diff with it in joins, or a
// presence_state listing it. A member gets no diff of changes its presence_state already holds,
// so a join in the same interval as the member's own arrives in its state.
export function listsJoin(message, key) {
  if (message[3] === 'presence_diff') return Boolean(message[4].joins[key])
  return message[3] === 'presence_state' && Boolean(message[4][key])
}

// The start of a V2 presence frame as the server writes it: [join_ref or null, null, "topic",
// "presence_state" or "presence_diff", … (dropPresence checks it without parsing the frame).
const PRESENCE_PREFIX = /^\[(?:null|"(?:[^"\\]|\\.)*"),null,"(?:[^"\\]|\\.)*","presence_(?:state|diff)",/

export class RawClient {
  // dropPresence: presence frames are only counted (presenceDropped), unparsed, for many idle members.
  constructor(ws, { keepPresence = false, dropPresence = false } = {}) {
    this.ws = ws
    this.keepPresence = keepPresence
    this.dropPresence = dropPresence
    this.presence = []
    this.presenceDropped = 0
    this.inbox = []
    this.waiters = []
    this.closeInfo = null
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() }
        open.delete(this)
        for (const wake of this.waiters.splice(0)) wake()
        resolve(this.closeInfo)
      })
    })
    // After an error `ws` emits "close" as well; the error itself is not interesting here.
    ws.on('error', () => {})
    ws.on('message', (data, isBinary) => {
      if (!isBinary && this.dropPresence && PRESENCE_PREFIX.test(data.toString('utf8', 0, 512))) {
        this.presenceDropped += 1
        return
      }
      if (!isBinary && !this.keepPresence) {
        const text = data.toString()
        let parsed = null
        try { parsed = JSON.parse(text) } catch {}
        if (isPresenceFrame(parsed)) {
          if (this.dropPresence) this.presenceDropped += 1
          else this.presence.push(parsed)
          return
        }
      }
      this.inbox.push(isBinary ? { binary: true, bytes: Buffer.from(data) } : { binary: false, text: data.toString() })
      for (const wake of this.waiters.splice(0)) wake()
    })
    open.add(this)
  }

  // Opens a connection; rejects with err.status set when the server refuses the upgrade.
  // skipUTF8Validation: text frames that are not UTF-8 are taken as they come (`ws` would close
  // the connection itself), so a test can see whether the server ever sends one.
  static connect(url, { protocols, headers, origin, keepPresence, dropPresence, skipUTF8Validation = false, timeoutMs = DEFAULT_WAIT_MS } = {}) {
    const ws = new WebSocket(url, protocols, { headers, origin, skipUTF8Validation })
    const client = new RawClient(ws, { keepPresence, dropPresence })
    const opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client))
      ws.once('unexpected-response', (req, res) => {
        const err = new Error(`upgrade refused with HTTP ${res.statusCode}`)
        err.status = res.statusCode
        res.resume()
        reject(err)
        ws.terminate()
      })
      client.closed.then((info) => reject(new Error(`connection closed before opening (code ${info.code})`)))
    })
    return within(opened, timeoutMs, `WebSocket open ${url}`).catch((err) => {
      ws.terminate()
      throw err
    })
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN
  }

  // Strings and Buffers are sent as they are (text and binary); anything else as JSON text.
  send(message) {
    if (Buffer.isBuffer(message)) this.ws.send(message, { binary: true })
    else if (typeof message === 'string') this.ws.send(message)
    else this.ws.send(JSON.stringify(message))
  }

  // Sends bytes in a text frame without any UTF-8 check on our side.
  sendTextBytes(bytes) {
    this.ws.send(bytes, { binary: false })
  }

  async next(timeoutMs = DEFAULT_WAIT_MS) {
    const deadline = Date.now() + timeoutMs
    while (this.inbox.length === 0) {
      if (this.closeInfo) throw new Error(`connection closed (code ${this.closeInfo.code}) while waiting for a frame`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`)
      await within(new Promise((resolve) => this.waiters.push(resolve)), left, 'a frame').catch(() => {})
    }
    return this.inbox.shift()
  }

  // The next frame, which must be a JSON text frame.
  async nextJson(timeoutMs) {
    const frame = await this.next(timeoutMs)
    if (frame.binary) throw new Error(`expected a text frame, got binary ${frame.bytes.toString('hex')}`)
    return JSON.parse(frame.text)
  }

  // JSON frames up to and including the first that matches `predicate`.
  async until(predicate, timeoutMs = DEFAULT_WAIT_MS) {
    const deadline = Date.now() + timeoutMs
    const taken = []
    for (;;) {
      const message = await this.nextJson(Math.max(deadline - Date.now(), 1))
      taken.push(message)
      if (predicate(message)) return taken
    }
  }

  // Joins a topic (V2) and fails unless the next frame is its ok reply. With keepPresence, a
  // room's presence_state follows in the inbox.
  async join(topic, payload = {}, joinRef = '1', timeoutMs = DEFAULT_WAIT_MS) {
    this.send([joinRef, joinRef, topic, 'phx_join', payload])
    const reply = await this.nextJson(timeoutMs)
    const [j, r, t, event, body] = reply
    if (j !== joinRef || r !== joinRef || t !== topic || event !== 'phx_reply' || body?.status !== 'ok') {
      throw new Error(`join of ${topic}: got ${JSON.stringify(reply)}`)
    }
    return reply
  }

  async nextBinary(timeoutMs) {
    const frame = await this.next(timeoutMs)
    if (!frame.binary) throw new Error(`expected a binary frame, got text ${frame.text}`)
    return frame.bytes
  }

  waitClose(timeoutMs = DEFAULT_WAIT_MS) {
    return within(this.closed, timeoutMs, 'the server to close the connection')
  }

  close() {
    if (this.ws.readyState === WebSocket.CLOSED) return
    this.ws.terminate()
  }
}

// Attempts an upgrade and reports the HTTP outcome: 101 plus the selected subprotocol, or the refusal status.
export async function upgradeStatus(url, options = {}) {
  try {
    const client = await RawClient.connect(url, options)
    const protocol = client.ws.protocol
    client.close()
    return { status: 101, protocol }
  } catch (err) {
    if (err.status) return { status: err.status }
    throw err
  }
}

export function closeRawClients() {
  for (const client of open) client.close()
  open.clear()
}
