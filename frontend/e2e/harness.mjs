// What the end-to-end tests and the playback benchmark share: a free port for
// a server binary, and Debian's Chromium (never a downloaded one), started
// with the flags that keep it off the network.
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
