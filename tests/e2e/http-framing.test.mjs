// Request smuggling (RFC 9112 §6.1, §6.3): a request whose body length is ambiguous (a
// Transfer-Encoding other than chunked, or one beside Content-Length) gets one 400 and the
// connection closes, so nothing hidden after it is ever answered. Plain chunked bodies still work.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, cleanupAll, rawHttp } from './harness.mjs'

const request = (head, body = '') => `${head.join('\r\n')}\r\n\r\n${body}`
const hiddenHealthz = request(['GET /healthz HTTP/1.1', 'Host: x'])
const hiddenSupervision = request(['GET /debug/supervision HTTP/1.1', 'Host: x'])

describe('HTTP request framing', () => {
  let server
  before(async () => { server = await startServer() })
  after(cleanupAll)

  async function expectOne400(text, label) {
    const { responses, text: received } = await rawHttp(server.port, text)
    assert.deepEqual(responses, [400], `${label}: one 400 and nothing else, got:\n${received}`)
    assert.match(received, /connection: close/i, label)
    assert.equal(server.alive, true)
  }

  it('Transfer-Encoding: xchunked with Content-Length: one 400, the pipelined request is never answered', async () => {
    const body = `0\r\n\r\n${hiddenHealthz}`
    await expectOne400(request(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: xchunked', `Content-Length: ${body.length}`], body) + hiddenHealthz,
      'xchunked + Content-Length')
  })

  it('Transfer-Encoding: xchunked alone cannot smuggle a hidden GET /debug/supervision', async () => {
    await expectOne400(request(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: xchunked'], hiddenSupervision), 'xchunked')
  })

  it('chunked beside Content-Length, in either order: 400 and close', async () => {
    const chunkedBody = `0\r\n\r\n${hiddenHealthz}`
    await expectOne400(request(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 5'], chunkedBody), 'chunked, then Content-Length')
    await expectOne400(request(['POST / HTTP/1.1', 'Host: x', 'Content-Length: 5', 'Transfer-Encoding: chunked'], chunkedBody), 'Content-Length, then chunked')
  })

  it('other codings, chunked twice, and Transfer-Encoding in HTTP/1.0: 400 and close', async () => {
    for (const head of [
      ['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: gzip, chunked'],
      ['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
      ['POST / HTTP/1.0', 'Host: x', 'Transfer-Encoding: chunked'],
    ]) {
      await expectOne400(request(head, `0\r\n\r\n${hiddenHealthz}`), head.slice(2).join(' + ') + ` (${head[0]})`)
    }
  })

  it('a plain chunked body still works, and a pipelined request after it is answered', async () => {
    const topic = 'room:framing'
    const chunked = request(
      [`POST /api/broadcast?topic=${topic}&event=e HTTP/1.1`, 'Host: x', 'Transfer-Encoding: chunked', 'Content-Type: application/json'],
      '2\r\n{}\r\n0\r\n\r\n')
    const { responses, text } = await rawHttp(server.port, chunked + hiddenHealthz, { halfClose: true })
    assert.deepEqual(responses, [202, 200], text)
  })
})
