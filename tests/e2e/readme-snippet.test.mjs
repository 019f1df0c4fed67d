// The README's phoenix.js snippet for Node, run as written (but for its port) against the README's
// example server, build/app/beryl-example: it must connect over WebSocket and print ticks.
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { startServer, cleanupAll, repoRoot, within } from './harness.mjs'

const exampleBinary = process.env.BERYL_EXAMPLE_SERVER
  ? path.resolve(process.env.BERYL_EXAMPLE_SERVER)
  : path.join(repoRoot, 'build/app/beryl-example')

function readmeSnippet() {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8')
  const match = /<!-- snippet: node -->\n```js\n([\s\S]*?)```/.exec(readme)
  assert.ok(match, 'the README has its Node snippet')
  return match[1]
}

describe('README snippet', () => {
  after(cleanupAll)

  it('the Node snippet connects over WebSocket and prints the clock\'s ticks', { timeout: 20_000 }, async () => {
    const server = await startServer([], { binary: exampleBinary })
    const snippet = readmeSnippet()
    assert.ok(snippet.includes('ws://127.0.0.1:4001/socket'))
    // Beside the suite's node_modules, so that "phoenix" and "ws" resolve as in a user's project.
    const file = path.join(path.dirname(new URL(import.meta.url).pathname), `.readme-snippet-${process.pid}.mjs`)
    writeFileSync(file, snippet.replace('ws://127.0.0.1:4001/socket', server.socketEndpoint()))
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => { output += chunk })
    child.stderr.on('data', (chunk) => { output += chunk })
    try {
      await within(new Promise((resolve) => {
        const check = () => ((output.match(/\d{4}-\d\d-\d\dT/g) || []).length >= 2 ? resolve() : setTimeout(check, 50))
        check()
      }), 8_000, `two ticks printed by the snippet (it printed: ${output})`)
    } finally {
      child.kill('SIGKILL')
      rmSync(file, { force: true })
    }
    assert.match(server.output, /websocket/i)
  })
})
