// Minimal HTTP client. Unlike fetch it keeps no idle keep-alive sockets, which would hold
// the test process open for seconds after the last test.
import http from 'node:http'
import { within } from './timing.mjs'

// `signal` (an AbortSignal) cancels the request; a request that times out is cancelled too, so a
// held long-poll GET never outlives its wait.
export function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 3_000, signal } = {}) {
  let req
  const done = new Promise((resolve, reject) => {
    req = http.request(url, { method, headers, agent: false, signal }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
  return within(done, timeoutMs, `${method} ${url}`).catch((err) => {
    req.destroy()
    throw err
  })
}
