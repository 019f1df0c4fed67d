// Minimal HTTP client. Unlike fetch it keeps no idle keep-alive sockets, which would hold
// the test process open for seconds after the last test.
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { within } from './timing.mjs'

// `signal` (an AbortSignal) cancels the request; a request that times out is cancelled too, so a
// held long-poll GET never outlives its wait. An https URL is checked against `ca` (PEM).
export function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 3_000, signal, ca } = {}) {
  let req
  const done = new Promise((resolve, reject) => {
    const client = String(url).startsWith('https:') ? https : http
    req = client.request(url, { method, headers, agent: false, signal, ca }, (res) => {
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

// Writes `text` as it is on a fresh TCP connection and collects what comes back until the server
// closes it. `halfClose` ends our side after writing (a keep-alive server then closes too).
// Resolves { text, responses }: the bytes received and the status of each response line in them.
export function rawHttp(port, text, { halfClose = false, timeoutMs = 3_000 } = {}) {
  const socket = net.connect(port, '127.0.0.1')
  const done = new Promise((resolve, reject) => {
    const chunks = []
    socket.on('connect', () => (halfClose ? socket.end(text) : socket.write(text)))
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const received = Buffer.concat(chunks).toString('latin1')
      const responses = [...received.matchAll(/^HTTP\/1\.[01] (\d{3}) /gm)].map((m) => Number(m[1]))
      resolve({ text: received, responses })
    })
  })
  return within(done, timeoutMs, 'the server to close the raw HTTP connection').finally(() => socket.destroy())
}
