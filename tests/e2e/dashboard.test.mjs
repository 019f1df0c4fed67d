// The operator's dashboard (issue 15) in headless Chromium (Debian's package, driven with
// puppeteer-core): the page joins "beryl:dashboard" and draws what the server pushes; after a
// crash injected with the page's own button, the tree shows the restart and the timeline the crash
// and what the supervisor did. A screenshot is kept in tests/e2e/artifacts/. The chat page, in the
// same browser, says in its log why its connection dropped and when it rejoined.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import puppeteer from 'puppeteer-core'
import { startServer, cleanupAll, connectPhx, joinOk, uniqueTopic, httpRequest } from './harness.mjs'

const CHROMIUM = process.env.BERYL_CHROMIUM || '/usr/bin/chromium'
const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts')
const WAIT_MS = 10_000

describe('/dashboard in headless Chromium', () => {
  let server, browser, page
  before(async () => {
    server = await startServer(['--enable-crash-injection'])
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    })
    page = await browser.newPage()
    await page.setViewport({ width: 1400, height: 1000 })
  })
  after(async () => {
    await browser?.close()
    await cleanupAll()
  })

  it('joins beryl:dashboard and draws the tree and the live figures the server pushes', async () => {
    const socket = await connectPhx(server)
    await joinOk(socket, uniqueTopic(), { user: 'ann' })
    await page.goto(server.httpUrl('/dashboard'))
    await page.waitForSelector('#status.live', { timeout: WAIT_MS })
    await page.waitForFunction(
      () => Number(document.querySelector('[data-figure="connections"] .value')?.textContent) >= 1,
      { timeout: WAIT_MS })
    const children = await page.$$eval('#tree [data-child]', (nodes) => nodes.map((n) => n.dataset.child))
    for (const name of ['root', 'pubsub', 'presence', 'coordinator', 'channels', 'listener', 'dashboard'])
      assert.ok(children.includes(name), `${name} in the drawn tree: ${children}`)
    // Pushed, not polled: a second sample arrives without any request from the page.
    const firstUpdate = await page.$eval('#updated', (e) => e.textContent)
    await page.waitForFunction((first) => document.querySelector('#updated').textContent !== first,
      { timeout: WAIT_MS }, firstUpdate)
  })

  it('after a crash from its button, the tree shows the restart and the timeline the crash', async () => {
    const coordinator = '#tree [data-child="coordinator"]'
    assert.equal(await page.$eval(coordinator, (n) => n.dataset.restarts), '0')
    await page.click(`${coordinator} button`)
    // rest_for_one: the listener restarts too and closes the page's socket; it rejoins.
    await page.waitForFunction((sel) => {
      const node = document.querySelector(sel)
      return node && node.dataset.restarts === '1' && node.dataset.state === 'running'
    }, { timeout: WAIT_MS }, coordinator)
    await page.waitForSelector('#status.live', { timeout: WAIT_MS })
    const rows = await page.$$eval('#timeline tbody tr', (trs) => trs.map((tr) =>
      [...tr.cells].map((td) => td.textContent)))
    const crash = rows.find((r) => r[1] === 'crash' && r[3] === 'coordinator')
    assert.ok(crash, `a crash of coordinator in the timeline: ${JSON.stringify(rows)}`)
    assert.equal(crash[2], 'root')
    assert.match(crash[4], /injected crash/)
    assert.equal(crash[5], 'restart')
    const restart = rows.find((r) => r[1] === 'restart' && r[3] === 'coordinator')
    assert.ok(restart, `the coordinator's restart in the timeline: ${JSON.stringify(rows)}`)
    assert.equal(restart[5], 'restarted')
    // The last exit reason, in full, on hover.
    assert.match(await page.$eval(coordinator, (n) => n.title), /^last exit: .*injected crash/)
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    const shot = path.join(ARTIFACTS, 'dashboard-after-crash.png')
    await page.screenshot({ path: shot, fullPage: true })
    assert.ok(fs.statSync(shot).size > 10_000, 'a screenshot of the page')
    console.log(`ℹ screenshot: ${shot}`)
  })

  it('a channel has a crash button too: its dynamic supervisor crashes it by id, and does not restart it', async () => {
    const socket = await connectPhx(server)
    const topic = uniqueTopic()
    await joinOk(socket, topic, { user: 'bob' })
    const channel = `#tree [data-child="${topic}"]`
    await page.waitForSelector(`${channel} button`, { timeout: WAIT_MS })
    assert.match(await page.$eval(`${channel} button`, (b) => b.title), /supervisor=channels$/)
    await page.click(`${channel} button`)
    await page.waitForFunction((t) => [...document.querySelectorAll('#timeline tbody tr')].some((tr) =>
      tr.dataset.child === t && tr.dataset.event === 'crash'), { timeout: WAIT_MS }, topic)
    const row = await page.$eval(`#timeline tbody tr[data-child="${topic}"]`, (tr) =>
      [...tr.cells].map((td) => td.textContent))
    assert.deepEqual([row[1], row[2], row[5]], ['crash', 'channels', 'none'])
  })

  it('the chat page says why its connection dropped, and that it reconnected and rejoined', async () => {
    const chat = await browser.newPage()
    await chat.goto(server.httpUrl('/'))
    const log = () => chat.$eval('#log', (e) => e.textContent)
    await chat.waitForFunction(() => /joined room:lobby/.test(document.querySelector('#log').textContent),
      { timeout: WAIT_MS })
    // The coordinator's restart restarts the listener, which closes every socket with 1001.
    const crashed = await httpRequest(server.httpUrl('/debug/crash?child=coordinator'), { method: 'POST' })
    assert.equal(crashed.status, 200)
    await chat.waitForFunction(() => /rejoined room:lobby/.test(document.querySelector('#log').textContent),
      { timeout: WAIT_MS })
    const text = await log()
    assert.match(text, /disconnected: the server went away .*\(code 1001/)
    assert.match(text, /reconnected after \d+\.\d s/)
    await chat.close()
  })

  it('is off with --no-dashboard: no page and no channel', async () => {
    const off = await startServer(['--no-dashboard'])
    assert.equal((await httpRequest(off.httpUrl('/dashboard'))).status, 404)
    const socket = await connectPhx(off)
    const refused = await new Promise((resolve) => socket.channel('beryl:dashboard', {}).join()
      .receive('ok', () => resolve(null)).receive('error', resolve))
    assert.deepEqual(refused, { reason: 'unmatched topic' })
  })
})
