// What the end-to-end tests and the playback benchmark share: a free port for
// a server binary, Debian's Chromium (never a downloaded one), started with
// the flags that keep it off the network, and a proxy that counts uploads.
import http from 'node:http'
import { createServer } from 'node:net'
import { chromium } from 'playwright-core'

export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'

/** A TCP port free on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

/** Starts headless Chromium that plays media without a user's gesture. */
export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  })
}

/**
 * A proxy in front of target that counts what clients send to the tus
 * endpoint: the body bytes of every request under /api/uploads/ as they
 * arrive (an upper bound of what the server got), each request with its
 * method, path, answer and whether its body came whole. A request the client
 * breaks off is broken off upstream too, as a dropped connection would be.
 * cut(ms) drops every connection now and refuses new ones for ms: the
 * network going away under the browser, which it cannot see coming.
 */
export async function countingProxy(target) {
  const up = new URL(target)
  const stats = { bytes: 0, requests: [] }
  const server = http.createServer((req, res) => {
    const tus = req.url.startsWith('/api/uploads/')
    const seen = { method: req.method, path: req.url, length: Number(req.headers['content-length'] ?? 0), got: 0, whole: false, status: 0, headers: {} }
    if (tus) stats.requests.push(seen)
    const out = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      seen.status = answer.statusCode
      seen.headers = answer.headers
      res.writeHead(answer.statusCode, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => res.destroy())
    req.on('data', (c) => {
      seen.got += c.length
      if (tus) stats.bytes += c.length
    })
    req.on('end', () => (seen.whole = true))
    req.on('close', () => {
      if (!req.complete) out.destroy()
    })
    req.pipe(out)
  })
  let downUntil = 0
  const sockets = new Set()
  server.on('connection', (s) => {
    if (Date.now() < downUntil) return s.destroy()
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const cut = (ms) => {
    downUntil = Date.now() + ms
    for (const s of sockets) s.destroy()
  }
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}`, stats, cut, close: () => (server.closeAllConnections(), server.close()) }
}
