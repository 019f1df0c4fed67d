// Minimal HTTP client. Unlike fetch it keeps no idle keep-alive sockets, which would hold
// the test process open for seconds after the last test.
import http from 'node:http'
import { within } from './timing.mjs'

export function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 3_000 } = {}) {
  const done = new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
  return within(done, timeoutMs, `${method} ${url}`)
}
