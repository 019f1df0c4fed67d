// A WebSocket over a plain TCP socket, for what no WebSocket library will send or do: invalid
// close codes, floods written as fast as the kernel takes them, a client that never reads.
import net from 'node:net'
import crypto from 'node:crypto'
import { within, DEFAULT_WAIT_MS } from './timing.mjs'

// One masked client frame (RFC 6455 §5.2), final, with any opcode and payload.
export function maskedFrame(opcode, payload = Buffer.alloc(0)) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
  let header
  if (body.length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | body.length])
  } else if (body.length < 65536) {
    header = Buffer.alloc(4)
    header.writeUInt16BE(body.length, 2)
    header[0] = 0x80 | opcode
    header[1] = 0x80 | 126
  } else {
    header = Buffer.alloc(10)
    header.writeBigUInt64BE(BigInt(body.length), 2)
    header[0] = 0x80 | opcode
    header[1] = 0x80 | 127
  }
  const mask = crypto.randomBytes(4)
  const masked = Buffer.allocUnsafe(body.length)
  for (let i = 0; i < body.length; i++) masked[i] = body[i] ^ mask[i & 3]
  return Buffer.concat([header, mask, masked])
}

export const OPCODE = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa }

// Connects and upgrades; resolves with the socket (paused when `paused`) and the bytes that came
// after the 101 response. Rejects with err.status when the upgrade is refused.
export function rawWebSocket(server, { query = 'vsn=2.0.0', localAddress, paused = false, timeoutMs = DEFAULT_WAIT_MS } = {}) {
  const upgraded = new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port, localAddress })
    let head = Buffer.alloc(0)
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head.toString('latin1', 0, end))?.[1])
      if (status !== 101) {
        socket.destroy()
        const err = new Error(`upgrade refused with HTTP ${status}`)
        err.status = status
        reject(err)
        return
      }
      if (paused) socket.pause()
      resolve({ socket, rest: head.subarray(end + 4) })
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.once('connect', () => {
      const key = crypto.randomBytes(16).toString('base64')
      socket.write(`GET /socket/websocket?${query} HTTP/1.1\r\nHost: ${server.host}:${server.port}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    })
  })
  return within(upgraded, timeoutMs, 'a raw WebSocket upgrade')
}

// Writes `chunk` again and again, waiting for the kernel to take each, for `ms` or until the
// socket fails; resolves with the bytes written and whether the server closed the connection.
export async function flood(socket, chunk, ms) {
  const deadline = Date.now() + ms
  let written = 0
  let closed = false
  const ended = new Promise((resolve) => {
    socket.once('close', resolve)
    socket.once('error', resolve)
  }).then(() => { closed = true })
  while (!closed && Date.now() < deadline) {
    const flushed = socket.write(chunk)
    written += chunk.length
    if (!flushed) {
      const drained = new Promise((resolve) => socket.once('drain', resolve))
      await Promise.race([drained, ended, new Promise((resolve) => setTimeout(resolve, Math.max(deadline - Date.now(), 0)))])
    }
  }
  return { written, closed }
}
