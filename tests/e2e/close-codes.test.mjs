// Close frames a client may not send (RFC 6455 §7.4): the server answers 1002 instead of echoing
// them. Over a raw TCP socket, since WebSocket libraries refuse to send these codes.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, cleanupAll, within } from './harness.mjs'
import { rawWebSocket, maskedFrame, OPCODE } from './raw-socket.mjs'

// Sends one close frame with `payload` and resolves with the code of the server's close frame.
async function serverCloseCode(server, payload) {
  const { socket, rest } = await rawWebSocket(server)
  let bytes = rest
  const answer = new Promise((resolve, reject) => {
    const look = () => {
      if (bytes.length >= 4 && bytes[0] === 0x88) resolve(bytes.readUInt16BE(2))
      else if (bytes.length >= 2 && bytes[0] !== 0x88) reject(new Error(`expected a close frame, got ${bytes.toString('hex')}`))
    }
    socket.on('data', (chunk) => { bytes = Buffer.concat([bytes, chunk]); look() })
    socket.once('close', () => reject(new Error('closed without a close frame')))
    look()
  })
  socket.write(maskedFrame(OPCODE.close, payload))
  try {
    return await within(answer, 3_000, 'the server close frame')
  } finally {
    socket.destroy()
  }
}

const code = (n) => Buffer.from([n >> 8, n & 255])

describe('close codes from the client', () => {
  let server
  before(async () => { server = await startServer() })
  after(cleanupAll)

  for (const invalid of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
    it(`code ${invalid} is a protocol error: 1002`, async () => {
      assert.equal(await serverCloseCode(server, code(invalid)), 1002)
    })
  }

  it('a one-byte close payload is a protocol error: 1002', async () => {
    assert.equal(await serverCloseCode(server, Buffer.from([3])), 1002)
  })

  for (const valid of [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4000, 4999]) {
    it(`code ${valid} is echoed`, async () => {
      assert.equal(await serverCloseCode(server, code(valid)), valid)
    })
  }

  it('a close without a code is answered with 1000', async () => {
    assert.equal(await serverCloseCode(server, Buffer.alloc(0)), 1000)
  })
})
