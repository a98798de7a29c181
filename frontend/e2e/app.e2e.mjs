// End-to-end tests of the web UI in headless Chromium (Debian's package,
// driven by playwright-core; nothing is downloaded), against the real server
// binary with its in-process worker and real FFmpeg.
import { after, before, describe, test as nodeTest } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { countingProxy, freePort, launchChromium } from './harness.mjs'

const root = path.resolve(import.meta.dirname, '../..')
const artifacts = path.join(root, 'test-artifacts', 'e2e')
const token = 'e2e-token-0123456789abcdef'
// Presigned URLs live 8 s here, so that playing on past their expiry is tested.
const urlTTL = 8

let tmp, base, browser, clip, truncated
const servers = []

// E2E_ONLY=<regex> runs only the tests whose names match it (case-blind), e.g.
// `E2E_ONLY=HLS npm run e2e`; the others are skipped. Suites' costly set-up
// (clips, uploads) is made on first use, so a skipped test costs nothing.
const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY, 'i') : null
const test = (name, fn) => nodeTest(name, { skip: only && !only.test(name) ? 'not in E2E_ONLY' : false }, fn)

/** fn's promise, made on the first call and shared by the later ones. */
function once(fn) {
  let p
  return () => (p ??= fn())
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Polls fn until it returns something truthy, for at most ms; returns it. */
async function waitFor(what, fn, ms, every = 250) {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`gave up after ${ms / 1000} s waiting for ${what}`)
    await sleep(every)
  }
}

/** Writes a clip with FFmpeg from lavfi sources: ffmpeg args between the inputs and the output. */
function makeClip(name, video, seconds, args) {
  const out = path.join(tmp, name)
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `${video}:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    ...args, '-c:a', 'aac', '-shortest', out])
  return out
}

async function waitHealthy(url) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url + '/healthz')).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('server did not start')
}

/** Starts the server binary on a free port with its own data, plus env. */
async function startServer(env = {}) {
  const port = await freePort()
  const dir = mkdtempSync(path.join(tmp, 'server-'))
  const proc = spawn(path.join(root, 'bin', 'assetlab-server'), [], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: token,
      ASSETLAB_DATA_DIR: path.join(dir, 'data'),
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      ASSETLAB_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  servers.push(proc)
  const url = `http://127.0.0.1:${port}`
  await waitHealthy(url)
  return { url, dir }
}

/** Uploads bytes as a file named name through the API (of server, by default the shared one); returns the new id. */
async function upload(bytes, name, type = 'video/mp4', server = base) {
  const form = new FormData()
  form.append('file', new Blob([bytes], { type }), name)
  const res = await fetch(server + '/api/upload', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form })
  assert.equal(res.status, 201, `upload of ${name}`)
  return (await res.json()).id
}

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'assetlab-e2e-'))
  mkdirSync(artifacts, { recursive: true })
  clip = path.join(tmp, 'sample clip.mp4')
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=10',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=10',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', clip])
  // Half of a faststart MP4: it starts to play, but cannot be transcoded.
  const whole = path.join(tmp, 'whole.mp4')
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', clip, '-c', 'copy', '-movflags', '+faststart', whole])
  const bytes = readFileSync(whole)
  truncated = bytes.subarray(0, Math.floor(bytes.length / 2))
  base = (await startServer({ ASSETLAB_URL_TTL: `${urlTTL}s` })).url
  browser = await launchChromium()
})

after(async () => {
  await browser?.close()
  for (const p of servers) p.kill()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

async function newPage(viewport = { width: 1280, height: 860 }, colorScheme = 'light') {
  const context = await browser.newContext({ viewport, colorScheme })
  const page = await context.newPage()
  page.on('pageerror', (e) => console.error('page error:', e))
  return page
}

// axe-core, the accessibility engine, from npm: injected into the page and
// run on what is drawn.
const axeScript = createRequire(import.meta.url).resolve('axe-core')

/** The axe-core violations on the page as drawn now, one line each. */
async function axeViolations(page) {
  await page.addScriptTag({ path: axeScript })
  return page.evaluate(async () => {
    const { violations } = await window.axe.run(document)
    return violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
  })
}

async function assertAccessible(page, what) {
  const found = await axeViolations(page)
  assert.deepEqual(found, [], `axe-core finds violations on ${what}:\n${found.join('\n')}`)
}

const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true })

const videoState = (page) =>
  page.evaluate(() => {
    const v = document.querySelector('video')
    return { time: v.currentTime, paused: v.paused, src: v.currentSrc, ready: v.readyState }
  })

/**
 * Waits until the video has played past t seconds; if it does not within ms,
 * fails with what the element and the page show, and a screenshot.
 */
async function playsPast(page, t, ms) {
  try {
    await page.waitForFunction((t) => document.querySelector('video').currentTime > t, t, { timeout: ms, polling: 100 })
  } catch (err) {
    const state = await page.evaluate(() => {
      const v = document.querySelector('video')
      const b = v && v.buffered.length ? `${v.buffered.start(0)}-${v.buffered.end(v.buffered.length - 1)}` : ''
      return {
        time: v?.currentTime, paused: v?.paused, ended: v?.ended, src: v?.currentSrc, ready: v?.readyState,
        network: v?.networkState, error: v?.error?.code, buffered: b,
        said: [...document.querySelectorAll('[role=status], [role=alert], .banner')].map((e) => e.textContent.trim()),
      }
    }).catch((e) => ({ unreadable: String(e) }))
    await shot(page, `not-playing-${Date.now() % 100000}`).catch(() => {})
    throw new Error(`the video did not play past ${t} s in ${ms / 1000} s: ${JSON.stringify(state)}`, { cause: err })
  }
}

/**
 * Picks value in the quality menu while the video plays, waits until ready(video)
 * holds and it plays again, and checks the position was kept: no jump back or
 * ahead beyond the time the switch took.
 */
async function switchKeepsPosition(page, value, ready) {
  // Not across the end of a looping clip.
  await page.waitForFunction(() => {
    const v = document.querySelector('video')
    return !(v.duration > 0) || (v.currentTime > 0.5 && v.currentTime < v.duration - 4)
  }, null, { timeout: 30_000 })
  const before = await videoState(page)
  const started = Date.now()
  await page.selectOption('#quality', value)
  await page.waitForFunction(
    (src) => {
      const v = document.querySelector('video')
      return new Function('v', `return (${src})(v)`)(v) && v.readyState >= 3 && !v.seeking && !v.paused
    },
    ready.toString(),
    { timeout: 30_000 },
  )
  const after = await videoState(page)
  const took = (Date.now() - started) / 1000
  assert.ok(after.time >= before.time - 1 && after.time <= before.time + took + 1,
    `${value}: position kept: ${before.time.toFixed(2)} → ${after.time.toFixed(2)} in ${took.toFixed(1)} s (${before.src} → ${after.src})`)
  assert.equal(after.paused, false, `${value}: still playing after the switch`)
  // And it plays on.
  await page.waitForFunction((t) => document.querySelector('video').currentTime > t + 0.5, after.time, { timeout: 15_000 })
  return after
}

describe('web UI', () => {
  let videoId

  test('upload a clip, play it at once, then the stream: Auto → 360p → Auto keeps the position, past URL expiry', async () => {
    const page = await newPage()
    await page.goto(base + '/')
    await shot(page, '1-upload-empty')
    await page.fill('#token', token)
    await page.click('text=Save')
    await page.setInputFiles('#file', clip)
    await page.getByText('Uploaded.').waitFor({ timeout: 60_000 })
    const watchURL = await page.inputValue('#watch-url')
    videoId = watchURL.split('/watch/')[1]
    assert.match(videoId, /^[0-9a-f-]{36}$/)
    await shot(page, '2-upload-done')
    await assertAccessible(page, 'the upload page, done')

    await page.click('text=Watch now')
    await page.waitForURL(`**/watch/${videoId}`)
    await page.waitForSelector('video')
    // Looping, so that a slow transcode on a busy machine cannot let the 10 s
    // clip end (and pause) before the switches below.
    await page.evaluate(() => {
      const v = document.querySelector('video')
      v.muted = true
      v.loop = true
      return v.play()
    })
    // It plays at once: the original, or the stream if its first segments
    // were already there when the page loaded.
    await playsPast(page, 1, 30_000)
    await shot(page, '3-watch-playing')
    if ((await videoState(page)).src.includes('/originals/')) {
      // An original that plays is not cut off when the stream appears: the
      // menu offers it, and taking it keeps the position.
      await page.waitForSelector('#quality option[value=auto]', { state: 'attached', timeout: 120_000 })
      await switchKeepsPosition(page, 'auto', (v) => v.currentSrc.startsWith('blob:'))
    }
    assert.match((await videoState(page)).src, /^blob:/, 'the stream plays, through hls.js')
    // Auto first, then each level named by its short side, the original last.
    const options = await page.$$eval('#quality option', (os) => os.map((o) => o.value))
    assert.deepEqual(options, ['auto', '360p', '720p', 'original'])
    assert.equal(await page.inputValue('#quality'), 'auto')
    await page.waitForFunction(() => /^Auto \(\d+p\)$/.test(document.querySelector('#quality option[value=auto]').textContent), null, { timeout: 30_000 })

    // Transcoding completes: the poster appears; the stream plays on.
    await page.waitForSelector('video[poster]', { timeout: 120_000 })
    await shot(page, '4-watch-done')
    await assertAccessible(page, 'the watch page, transcoded')

    // Let the URLs the page holds expire, then switch: the position and the
    // playing state are kept.
    await sleep((urlTTL + 1) * 1000)
    assert.equal((await videoState(page)).paused, false, 'still playing before the switch')
    await switchKeepsPosition(page, '360p', (v) => v.videoWidth === 640)
    await page.waitForFunction(() => document.querySelector('#quality option[value=auto]').textContent === 'Auto', null, { timeout: 5_000 })
    await shot(page, '5-watch-360p')
    await switchKeepsPosition(page, 'auto', () => true)
    await page.waitForFunction(() => /^Auto \(\d+p\)$/.test(document.querySelector('#quality option[value=auto]').textContent), null, { timeout: 30_000 })
    await shot(page, '5b-watch-auto-again')
  })

  test('a video transcoded by an older version (no stream) plays a rendition, and switches with the position kept past URL expiry', async () => {
    assert.ok(videoId, 'needs the video of the first test')
    const page = await newPage()
    // This server gives every new video a stream; an older one gave none:
    // its details, as they were, are the real ones without hls_url.
    await page.route(`**/api/videos/${videoId}`, async (route) => {
      const res = await route.fetch()
      const body = await res.json()
      delete body.hls_url
      delete body.playable_seconds
      await route.fulfill({ response: res, json: body })
    })
    await page.goto(`${base}/watch/${videoId}`)
    await page.waitForSelector('#quality option[value="360p"]', { state: 'attached' })
    assert.deepEqual(await page.$$eval('#quality option', (os) => os.map((o) => o.value)), ['360p', '720p', 'original'])
    assert.equal(await page.inputValue('#quality'), '720p', 'a rendition by default, not the original')
    await page.evaluate(() => {
      const v = document.querySelector('video')
      v.muted = true
      v.loop = true
      return v.play()
    })
    await playsPast(page, 1, 30_000)
    assert.match((await videoState(page)).src, /720p/)
    await sleep((urlTTL + 1) * 1000)
    await switchKeepsPosition(page, '360p', (v) => v.currentSrc.includes('360p') && v.videoWidth === 640)
    await shot(page, '5c-watch-no-hls-360p')
  })

  test('library lists the upload', async () => {
    const page = await newPage(undefined, 'dark')
    await page.goto(base + '/')
    await page.fill('#token', token)
    await page.click('text=Save')
    await page.click('nav >> text=Library')
    await page.getByText('sample clip.mp4').waitFor({ timeout: 10_000 })
    await shot(page, '6-library-dark')
  })

  test('a slow upload shows its progress and can be cancelled', async () => {
    const page = await newPage()
    await page.goto(base + '/')
    await page.fill('#token', token)
    await page.click('text=Save')
    // 1 MB/s up: the 9 MB clip takes a while.
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 1_000_000,
    })
    const before = (await (await fetch(base + '/api/videos', { headers: { Authorization: `Bearer ${token}` } })).json()).videos.length
    await page.setInputFiles('#file', clip)
    await page.waitForFunction(() => {
      const bar = document.querySelector('[role=progressbar]')
      return bar && Number(bar.getAttribute('aria-valuenow')) >= 10 && document.body.innerText.includes('left')
    }, null, { timeout: 30_000 })
    const stats = await page.innerText('.stats')
    assert.match(stats, /\d+%/)
    assert.match(stats, /iB of \d\.\d MiB/)
    assert.match(stats, /\d:\d\d left/)
    assert.match(stats, /\/s/)
    await shot(page, '2b-upload-progress')
    await assertAccessible(page, 'the upload page, uploading')
    await page.click('text=Cancel')
    // The person's own doing: said, not shown as an error.
    assert.equal(await page.getByRole('status').innerText(), 'Upload cancelled.')
    assert.equal(await page.getByRole('alert').count(), 0)
    const afterCancel = (await (await fetch(base + '/api/videos', { headers: { Authorization: `Bearer ${token}` } })).json()).videos.length
    assert.equal(afterCancel, before, 'a cancelled upload leaves no video')
  })

  test('a wrong token shows a message', async () => {
    const page = await newPage()
    await page.goto(base + '/')
    await page.fill('#token', 'not-the-token-at-all')
    await page.click('text=Save')
    await page.setInputFiles('#file', clip)
    const alert = page.getByRole('alert')
    await alert.waitFor({ timeout: 30_000 })
    assert.match(await alert.innerText(), /token was refused/)
    await shot(page, '7-wrong-token')
    await assertAccessible(page, 'the upload page, failed')
  })

  test('the drop zone is one keyboard stop, and opens the file picker', async () => {
    const page = await newPage()
    await page.goto(base + '/')
    await page.fill('#token', token)
    await page.press('#token', 'Enter')
    // From the control before it.
    await page.focus('text=Forget')
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement.className.includes('drop')), true, 'Tab reaches the drop zone')
    // Waiting for the event turns on file chooser interception, which
    // Playwright sends to the browser on its own; a round trip after it makes
    // sure the browser has it before Enter opens the chooser.
    const chosen = page.waitForEvent('filechooser')
    await page.evaluate(() => 0)
    await page.keyboard.press('Enter')
    const chooser = await chosen
    assert.equal(await chooser.element().getAttribute('id'), 'file')
    await page.keyboard.press('Tab')
    assert.notEqual(await page.evaluate(() => document.activeElement.id), 'file', 'the file input behind it is no stop of its own')
  })

  test('a file that is not a video is refused before upload', async () => {
    const page = await newPage()
    await page.goto(base + '/')
    await page.fill('#token', token)
    await page.click('text=Save')
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') })
    assert.match(await page.getByRole('alert').innerText(), /not a video/)
  })

  describe("a file over the server's limit is refused in the limit's words, and nothing is stored", () => {
    let small
    before(async () => {
      // A server of its own, whose limit (4 MiB) is below the 9 MiB clip.
      small = (await startServer({ ASSETLAB_MAX_UPLOAD_BYTES: String(4 << 20) })).url
    })

    // A server that says its limit (GET /api/config) is refused before a
    // byte is sent; an older one, without that endpoint, refuses the upload
    // itself (413). Until this build's server has the endpoint, its answer is
    // played by the browser, in the documented shape.
    for (const older of [false, true]) {
      test(older ? 'an older server, without /api/config' : 'a server that says its limit', async () => {
        const page = await newPage()
        const served = (await fetch(small + '/api/config')).ok
        if (older) {
          await page.route('**/api/config', (r) => r.fulfill({ status: 404, json: { error: 'no such endpoint', code: 'not_found' } }))
        } else if (!served) {
          await page.route('**/api/config', (r) => r.fulfill({
            json: {
              max_upload_bytes: 4 << 20,
              accepted_types: ['video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska'],
              accepted_extensions: ['.mp4', '.mov', '.webm', '.mkv'],
              qualities: ['360p', '720p', '1080p'],
              features: { resumable_uploads: false, hls: false, events: false },
            },
          }))
        }
        const uploads = []
        page.on('request', (r) => r.url().endsWith('/api/upload') && uploads.push(r.url()))
        await page.goto(small + '/')
        await page.fill('#token', token)
        await page.click('text=Save')
        await page.getByText(older ? 'up to 1 GiB' : 'up to 4 MiB').waitFor()
        await page.setInputFiles('#file', clip)
        const alert = page.getByRole('alert')
        await alert.waitFor({ timeout: 30_000 })
        assert.match(await alert.innerText(), /the limit is 4 MiB\.$/)
        if (older) {
          assert.equal(uploads.length, 1, 'the older server is sent the file, and refuses it')
        } else {
          assert.deepEqual(uploads, [], 'nothing is sent')
          await shot(page, '7b-over-the-limit')
        }
        const listed = (await (await fetch(small + '/api/videos', { headers: { Authorization: `Bearer ${token}` } })).json()).videos
        assert.equal(listed.length, 0, 'nothing is stored')
      })
    }
  })

  test('a failed transcode shows an error, and the original still plays', async () => {
    const id = await upload(truncated, 'broken.mp4')
    const page = await newPage()
    await page.goto(`${base}/watch/${id}`)
    const banner = page.locator('.banner.error')
    await banner.waitFor({ timeout: 60_000 })
    assert.match(await banner.innerText(), /Transcoding failed: .*truncated/)
    await page.evaluate(() => {
      const v = document.querySelector('video')
      v.muted = true
      return v.play()
    })
    await page.waitForFunction(() => document.querySelector('video').currentTime > 0.5, null, { timeout: 20_000 })
    await shot(page, '9-watch-transcode-failed')
    await assertAccessible(page, 'the watch page, transcode failed')
  })

  test('an unknown id shows the not-found page', async () => {
    const page = await newPage({ width: 390, height: 800 })
    await page.goto(base + '/watch/00000000-0000-4000-8000-000000000000')
    await page.getByRole('heading', { name: 'Video not found' }).waitFor()
    await shot(page, '8-not-found-mobile')
    await page.goto(base + '/watch/not-an-id')
    await page.getByRole('heading', { name: 'Video not found' }).waitFor()
  })

  test('a video opens by a pasted link', async () => {
    const page = await newPage()
    await page.goto(base + '/library')
    await page.fill('#open-compact', `${base}/watch/${videoId}`)
    await page.press('#open-compact', 'Enter')
    await page.waitForURL(`**/watch/${videoId}`)
    await page.waitForSelector('video')
  })
})

// Adaptive streaming, against a server of its own whose signed links live
// 5 s, with clips made for it: small ones, to spare the machine.
describe('adaptive streaming (HLS)', () => {
  const ttl = 5
  const server = once(async () => (await startServer({ ASSETLAB_URL_TTL: `${ttl}s` })).url)
  // HEVC 10-bit in a QuickTime file, as phones make them: Chromium has no decoder for it.
  const hevcClip = once(async () => makeClip('phone clip.mov', 'testsrc2=size=1280x720:rate=24', 20,
    ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-pix_fmt', 'yuv420p10le', '-tag:v', 'hvc1']))
  // Two minutes at 640x360: one rendition, transcoded several times faster than it plays.
  const longVideo = once(async () => {
    const file = makeClip('two minutes.mp4', 'testsrc2=size=640x360:rate=30', 120,
      ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-pix_fmt', 'yuv420p'])
    return upload(readFileSync(file), 'two minutes.mp4', 'video/mp4', await server())
  })
  const details = async (id) => (await fetch(`${await server()}/api/videos/${id}`)).json()
  /** Waits until hls.js plays the stream: frames decoded, from a MediaSource. */
  const streamShown = (page, ms) =>
    page.waitForFunction(() => {
      const v = document.querySelector('video')
      return v && v.currentSrc.startsWith('blob:') && v.videoWidth > 0
    }, null, { timeout: ms })
  const play = (page) =>
    page.evaluate(() => {
      const v = document.querySelector('video')
      v.muted = true
      return v.play()
    })
  const currentTime = (page) => page.evaluate(() => document.querySelector('video').currentTime)

  test('HLS: an HEVC .mov this browser cannot decode is said so in plain words, then its stream plays while transcoding', async () => {
    const hls = await server()
    const id = await upload(readFileSync(await hevcClip()), 'phone clip.mov', 'video/quicktime', hls)
    const page = await newPage()
    await page.goto(`${hls}/watch/${id}`)
    // The original loads, its sound without a picture and without an error: the page says so.
    const message = page.locator('.placeholder')
    await message.waitFor({ timeout: 30_000 })
    assert.match(await message.innerText(),
      /^This browser can't play the original file's video format\. (Making a playable version… \d+%|A playable version will be made when a transcoder takes the video\.)$/)
    assert.equal(await page.locator('#quality').count(), 0, 'no menu for a player with nothing to play')
    const download = page.getByRole('link', { name: 'Download the original' })
    assert.equal(await download.getAttribute('download'), 'phone clip.mov')
    assert.match(await download.getAttribute('href'), /originals/)
    await shot(page, 'hls-1-hevc-cannot-decode')
    await assertAccessible(page, 'the watch page, original not decodable here')

    // As soon as the stream exists it plays: frames, and time moving.
    await streamShown(page, 120_000)
    await play(page)
    const t0 = await currentTime(page)
    await page.waitForFunction((t) => document.querySelector('video').currentTime > t + 1, t0, { timeout: 30_000 })
    assert.equal((await details(id)).status, 'processing', 'it plays while the transcode still runs')
    assert.equal(await message.count(), 0, 'the message is gone')
    assert.ok((await page.evaluate(() => document.querySelector('video').videoWidth)) > 0)
    await shot(page, 'hls-2-hevc-stream-playing')
    await assertAccessible(page, 'the watch page, streaming while transcoding')
  })

  test('HLS: a 2-minute clip watched mid-transcode plays past the first minute, across the EVENT → VOD playlist, without a reload', async () => {
    const id = await longVideo()
    const page = await newPage()
    const fetched = []
    page.on('request', (r) => {
      const p = new URL(r.url()).pathname
      if (p.includes(`/api/videos/${id}/hls/`)) fetched.push(p.replace(/^.*\/hls\/\d+\//, ''))
    })
    // Every reload of the player empties the element.
    await page.addInitScript(() => {
      window.emptied = 0
      document.addEventListener('emptied', () => window.emptied++, true)
    })
    await page.goto(`${await server()}/watch/${id}`)
    await streamShown(page, 120_000)
    await play(page)
    const start = await page.evaluate(() => ({ emptied: window.emptied, src: document.querySelector('video').currentSrc }))
    assert.equal((await details(id)).status, 'processing', 'playback begins while the transcode runs')
    assert.match(await page.locator('.banner.info').innerText(), /^Transcoding… \d+% · the first \d+:\d\d can be watched now$/)
    await shot(page, 'hls-3-two-minutes-transcoding')

    // Past the first minute as soon as the playlist reaches it.
    await page.waitForFunction(() => document.querySelector('video').duration > 70, null, { timeout: 120_000 })
    await page.evaluate(() => (document.querySelector('video').currentTime = 62))
    await page.waitForFunction(() => document.querySelector('video').currentTime > 64, null, { timeout: 30_000 })

    // The transcode ends while it plays.
    await waitFor('the transcode to end', async () => (await details(id)).status === 'done', 180_000)
    await page.locator('.banner.info').waitFor({ state: 'detached', timeout: 10_000 })
    const atDone = await videoState(page)
    assert.equal(atDone.paused, false, 'playing when the transcode ends')
    assert.ok(atDone.time > 60 && atDone.time < 118, `still inside the video when the transcode ends (${atDone.time.toFixed(1)} s)`)
    // Beyond what is buffered: segments come from the VOD playlist now.
    await page.evaluate(() => (document.querySelector('video').currentTime = 105))
    await page.waitForFunction(() => document.querySelector('video').currentTime > 107, null, { timeout: 30_000 })
    assert.ok(fetched.some((n) => /^360p\/\d+\.m4s$/.test(n)), `segments of the EVENT playlist were played: ${fetched.join(' ')}`)
    assert.ok(fetched.includes('360p.mp4'), `byte ranges of the VOD playlist were played: ${fetched.join(' ')}`)
    const end = await page.evaluate(() => ({ emptied: window.emptied, src: document.querySelector('video').currentSrc }))
    assert.deepEqual(end, start, 'the same player all along: never emptied, the same MediaSource')
    await shot(page, 'hls-4-two-minutes-done')
  })

  test('HLS: signed links expire mid-playback, and seeking past the first segments after that plays on', async () => {
    const id = await longVideo()
    await waitFor('the transcode to end', async () => (await details(id)).status === 'done', 180_000)
    const page = await newPage()
    const segments = []
    const failures = []
    page.on('response', (r) => {
      if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`)
      if (new URL(r.url()).pathname.includes(`/api/videos/${id}/hls/`)) segments.push({ url: r.url(), at: Date.now() })
    })
    // A slow line (2 Mbit/s), so that the player cannot have fetched the whole
    // video before the links expire: it buffers up to two minutes ahead.
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: 250_000, uploadThroughput: -1 })
    await page.goto(`${await server()}/watch/${id}`)
    const expired = Date.now() + ttl * 1000
    await streamShown(page, 30_000)
    await play(page)
    // Playing on past the links' lifetime.
    await waitFor('the links to expire', async () => Date.now() > expired + 1000, 30_000)
    assert.equal((await videoState(page)).paused, false)
    // Past the buffer (it holds half a minute ahead): new segments are fetched now.
    await page.evaluate(() => (document.querySelector('video').currentTime = 90))
    await page.waitForFunction(() => document.querySelector('video').currentTime > 92, null, { timeout: 30_000 })
    const late = segments.filter((s) => s.at > expired && s.url.endsWith('.mp4'))
    assert.ok(late.length > 0, 'segments fetched after the links expired')
    assert.deepEqual(failures, [], 'no request failed')
    assert.equal((await videoState(page)).paused, false, 'still playing')
    await shot(page, 'hls-5-after-expiry')
  })

  test('HLS: a stream that answers 404 is asked again from fresh details, waiting longer each time, and plays once it answers', async () => {
    const id = await longVideo()
    await waitFor('the transcode to end', async () => (await details(id)).status === 'done', 180_000)
    const page = await newPage()
    const detailsFetched = []
    const masters = []
    page.on('request', (r) => {
      const p = new URL(r.url()).pathname
      if (p === `/api/videos/${id}`) detailsFetched.push(Date.now())
      if (p.endsWith('/master.m3u8')) masters.push(Date.now())
    })
    // The stream is gone, as when another attempt replaced it: hls.js gives
    // up at once (a 404 is not retried) ...
    const gone = `**/api/videos/${id}/hls/**`
    await page.route(gone, (r) => r.fulfill({ status: 404, json: { error: 'not found', code: 'not_found' } }))
    await page.goto(`${await server()}/watch/${id}`)
    await sleep(6000)
    // ... and the player fetches the details again before each new try,
    // waiting longer each time: no tight loop.
    const tries = masters.length
    assert.ok(tries >= 2 && tries <= 6, `tries in 6 s: ${tries}`)
    // At least 0.5 s, 1 s, 2 s… between tries (more on a busy machine).
    const gaps = masters.slice(1).map((t, i) => t - masters[i])
    assert.ok(gaps.every((g, i) => g >= 450 * 2 ** i), `waits between tries: ${gaps.join(', ')} ms`)
    assert.ok(detailsFetched.length >= tries, `details fetched before each try: ${detailsFetched.length} for ${tries}`)
    await page.unroute(gone)
    await streamShown(page, 60_000)
    await play(page)
    await playsPast(page, 1, 30_000)
    assert.equal(await page.getByRole('alert').count(), 0, 'no error left on the page')
  })
})

// A client written for the original single-video API, as third parties have
// them: upload, poll the status, then a plain <video src> on one rendition.
test('the single-video API: upload, status, then the 360p MP4 plays and seeks in a plain <video src>', async () => {
  const page = await newPage()
  const api = new Set()
  page.on('request', (r) => {
    const u = new URL(r.url())
    if (u.pathname.startsWith('/api/')) api.add(`${r.method()} ${u.pathname.replace(/[0-9a-f-]{36}/, '{id}')}`)
  })
  // A page of the server's origin, none of the web UI's code in it.
  await page.goto(`${base}/healthz`)
  await page.setContent('<input type="file" id="file"><video id="player" muted></video>')
  await page.setInputFiles('#file', clip)
  const got = await page.evaluate(async (token) => {
    const form = new FormData()
    form.append('file', document.getElementById('file').files[0])
    const res = await fetch('/api/upload', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form })
    if (res.status !== 201) throw new Error(`upload: ${res.status}`)
    const { id } = await res.json()
    let status
    for (let i = 0; i < 600; i++) {
      status = await (await fetch(`/api/video/${id}/status`)).json()
      if (status.status === 'done' || status.status === 'error') break
      await new Promise((r) => setTimeout(r, 500))
    }
    if (status.status !== 'done') throw new Error(`transcode: ${JSON.stringify(status)}`)
    const { url } = await (await fetch(`/api/video/${id}/360p`)).json()
    const v = document.getElementById('player')
    v.src = url
    await new Promise((resolve, reject) => {
      v.onloadedmetadata = resolve
      v.onerror = () => reject(new Error(`video error ${v.error?.code}`))
    })
    const duration = v.duration
    v.currentTime = duration / 2
    await new Promise((resolve) => (v.onseeked = resolve))
    const seekedTo = v.currentTime
    await v.play()
    for (let i = 0; i < 100 && v.currentTime < seekedTo + 1; i++) await new Promise((r) => setTimeout(r, 100))
    return { qualities: status.qualities, duration, seekedTo, later: v.currentTime, width: v.videoWidth }
  }, token)
  assert.deepEqual(got.qualities, ['360p', '720p'])
  assert.ok(Number.isFinite(got.duration) && Math.abs(got.duration - 10) < 0.5, `duration ${got.duration}`)
  assert.ok(Math.abs(got.seekedTo - got.duration / 2) < 0.5, `seeked to ${got.seekedTo}`)
  assert.ok(got.later >= got.seekedTo + 1, `plays on from there: ${got.seekedTo} → ${got.later}`)
  assert.equal(got.width, 640)
  assert.deepEqual([...api].sort(), ['GET /api/video/{id}/360p', 'GET /api/video/{id}/status', 'POST /api/upload'])
  await shot(page, '10-single-video-api-client')
})

// Every page, in both colour schemes, checked by a real accessibility engine.
describe('accessibility (axe-core)', () => {
  const video = once(() => upload(readFileSync(clip), 'axe clip.mp4'))

  const pages = [
    { name: 'upload', path: () => '/', ready: (page) => page.locator('.drop').waitFor() },
    {
      name: 'library',
      path: async () => (await video(), '/library'),
      withToken: true,
      ready: (page) => page.getByText('axe clip.mp4').waitFor({ timeout: 10_000 }),
    },
    { name: 'watch', path: async () => `/watch/${await video()}`, ready: (page) => page.waitForSelector('video') },
    {
      name: 'not found',
      path: () => '/no/such/page',
      ready: (page) => page.getByRole('heading', { name: 'Page not found' }).waitFor(),
    },
    {
      name: 'video not found',
      path: () => '/watch/00000000-0000-4000-8000-000000000000',
      ready: (page) => page.getByRole('heading', { name: 'Video not found' }).waitFor(),
    },
  ]
  for (const scheme of ['light', 'dark']) {
    for (const p of pages) {
      test(`${p.name}, ${scheme}: no violation`, async () => {
        const page = await newPage()
        await page.emulateMedia({ colorScheme: scheme })
        if (p.withToken) await page.addInitScript((t) => localStorage.setItem('assetlab.token', t), token)
        await page.goto(base + (await p.path()))
        await p.ready(page)
        await shot(page, `a11y-${p.name.replaceAll(' ', '-')}-${scheme}`)
        await assertAccessible(page, `${p.name} (${scheme})`)
      })
    }
  }
})

// Resumable uploads (tus) from the page, through a proxy that counts the
// bytes the browser sends to the tus endpoint, on a line throttled to 1 MB/s:
// the 10 s clip (about 9 MB) goes in 2 MiB chunks, several of them.
describe('resumable uploads (tus)', () => {
  const chunk = 2 << 20
  const server = once(() => startServer())
  const proxies = []
  after(() => proxies.forEach((p) => p.close()))

  /** A proxy of its own in front of the tus test server, so that each test counts only its bytes. */
  async function proxy() {
    const p = await countingProxy((await server()).url)
    proxies.push(p)
    return p
  }

  /** A page of the web UI through px, with the token saved and small chunks. */
  async function tusPage(px) {
    const page = await newPage()
    await page.addInitScript(([c, t]) => {
      localStorage.setItem('assetlab.uploadChunkBytes', String(c))
      localStorage.setItem('assetlab.token', t)
    }, [chunk, token])
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Network.enable')
    const line = (offline) => cdp.send('Network.emulateNetworkConditions', {
      offline, latency: 20, downloadThroughput: -1, uploadThroughput: 1_000_000,
    })
    await line(false)
    await page.goto(px.url + '/')
    return { page, line }
  }

  const size = () => statSync(clip).size
  const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')
  const tusKeys = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')))
  const patches = (px) => px.stats.requests.filter((r) => r.method === 'PATCH')
  const summary = (px) => patches(px).map((r) => `${r.got}/${r.length}${r.whole ? '' : ' cut'} → ${r.status || '-'}`).join(', ')

  /** The video the page uploaded: its stored original is the clip, byte for byte. */
  async function checkStored(page) {
    await page.getByText('Uploaded.').waitFor({ timeout: 120_000 })
    const id = (await page.inputValue('#watch-url')).split('/watch/')[1]
    const details = await (await fetch(`${(await server()).url}/api/videos/${id}`)).json()
    assert.equal(details.size, size(), 'stored size')
    const original = Buffer.from(await (await fetch(details.original_url)).arrayBuffer())
    assert.equal(sha256(original), sha256(readFileSync(clip)), 'the stored original is the file')
    return id
  }

  /** What went on the wire is the file once, plus at most one chunk sent again. */
  function checkBytes(px, what) {
    const sent = px.stats.bytes
    console.log(`${what}: ${sent} bytes sent to the tus endpoint for a ${size()}-byte file ` +
      `(+${sent - size()}, chunk ${chunk}); PATCHes (got/length → status): ${summary(px)}`)
    assert.ok(sent >= size(), `the whole file arrived: ${sent} of ${size()}`)
    assert.ok(sent <= size() + chunk, `at most one chunk sent again: ${sent} > ${size()} + ${chunk}`)
  }

  test('tus: offline for 5 s mid-upload, the upload goes on by itself once back, and the video plays', async () => {
    const px = await proxy()
    const { page, line } = await tusPage(px)
    const failed = []
    page.on('requestfailed', (r) => failed.push(`${r.method()} ${r.failure()?.errorText}`))
    await page.setInputFiles('#file', clip)
    await waitFor('a third of the file to arrive', () => px.stats.bytes > size() / 3, 60_000, 50)
    console.log('offline at', Date.now() % 100000)
    await line(true)
    await page.getByText('Connection lost.').waitFor({ timeout: 10_000 })
    await shot(page, 'tus-1-offline')
    await assertAccessible(page, 'the upload page, connection lost')
    await sleep(5000)
    assert.equal(await page.getByRole('alert').count(), 0, 'no error while offline')
    assert.ok(await page.locator('[role=progressbar]').count(), 'still uploading')
    await line(false)
    const id = await checkStored(page)
    checkBytes(px, 'offline 5 s')
    // Chromium sends the rest of a PATCH's body as it goes offline, and then
    // fails the request: the server has the bytes, the page lost the answer,
    // and asks the server's offset (HEAD) before it goes on.
    assert.ok(failed.some((f) => f.startsWith('PATCH ')), `the outage broke a PATCH off: ${failed.join(', ')}`)
    assert.ok(px.stats.requests.some((r) => r.method === 'HEAD' && r.status === 200), 'the offset asked of the server')
    assert.deepEqual(await tusKeys(page), [], 'nothing left to resume')

    // It transcodes, and plays.
    await page.click('text=Watch now')
    await page.waitForURL(`**/watch/${id}`)
    await page.waitForSelector('video')
    await page.evaluate(() => {
      const v = document.querySelector('video')
      v.muted = true
      return v.play()
    })
    await playsPast(page, 1, 60_000)
    await waitFor('the transcode to end', async () =>
      (await (await fetch(`${(await server()).url}/api/videos/${id}`)).json()).status === 'done', 240_000, 1000)
    await shot(page, 'tus-2-plays')
  })

  test('tus: the connection dropped mid-PATCH for 5 s, the upload goes on by itself from what the server kept', async () => {
    const px = await proxy()
    const { page } = await tusPage(px)
    await page.setInputFiles('#file', clip)
    // Halfway through a chunk.
    await waitFor('half of the file to arrive', () => px.stats.bytes > size() / 2 && px.stats.bytes % chunk > chunk / 4, 60_000, 20)
    px.cut(5000)
    await page.getByText('Connection lost.').waitFor({ timeout: 10_000 })
    await shot(page, 'tus-1b-connection-lost')
    await sleep(5000)
    assert.equal(await page.getByRole('alert').count(), 0, 'no error during the outage')
    await checkStored(page)
    checkBytes(px, 'connection dropped 5 s')
    assert.ok(patches(px).some((r) => !r.whole), `a PATCH was cut off mid-body: ${summary(px)}`)
    assert.deepEqual(await tusKeys(page), [], 'nothing left to resume')
  })

  test('tus: the page reloaded mid-upload, the same file chosen again resumes where it stopped', async () => {
    const px = await proxy()
    const { page, line } = await tusPage(px)
    await page.setInputFiles('#file', clip)
    await waitFor('two fifths of the file to arrive', () => px.stats.bytes > (2 * size()) / 5, 60_000, 50)
    assert.equal((await tusKeys(page)).length, 1, 'the upload is kept for resuming')
    await page.reload()
    await line(false)
    await page.locator('.drop').waitFor()
    const before = px.stats.bytes
    await page.setInputFiles('#file', clip)
    const note = page.getByText(/^Resuming at \d+ %$/)
    await note.waitFor({ timeout: 15_000 })
    await shot(page, 'tus-3-resuming')
    await assertAccessible(page, 'the upload page, resuming')
    // The server's offset, from its answer to the HEAD, is what the page says.
    const head = px.stats.requests.find((r) => r.method === 'HEAD' && r.status === 200)
    const offset = Number(head.headers['upload-offset'])
    assert.ok(offset > 0 && offset <= before, `resumed at ${offset}, of ${before} bytes sent before the reload`)
    assert.equal(await note.innerText(), `Resuming at ${Math.floor((100 * offset) / size())} %`)
    assert.equal(px.stats.requests.filter((r) => r.method === 'POST').length, 1, 'no second upload created')
    await checkStored(page)
    checkBytes(px, 'reload')
    assert.deepEqual(await tusKeys(page), [], 'nothing left to resume')
  })

  test('tus: Cancel ends the upload on the server, nothing of it left', async () => {
    const { url, dir } = await server()
    const px = await proxy()
    const { page } = await tusPage(px)
    const count = async () => (await (await fetch(url + '/api/videos', { headers: { Authorization: `Bearer ${token}` } })).json()).videos.length
    const videos = await count()
    await page.setInputFiles('#file', clip)
    await waitFor('a fifth of the file to arrive', () => px.stats.bytes > size() / 5, 60_000, 50)
    const created = px.stats.requests.find((r) => r.method === 'POST' && r.status === 201)
    const uploadURL = new URL(created.headers.location, url).pathname
    const uploadID = uploadURL.split('/').pop()
    await page.click('text=Cancel')
    assert.equal(await page.getByRole('status').innerText(), 'Upload cancelled.')
    assert.equal(await page.getByRole('alert').count(), 0, 'not shown as an error')
    await shot(page, 'tus-4-cancelled')
    await assertAccessible(page, 'the upload page, cancelled')
    await waitFor('the DELETE', () => px.stats.requests.some((r) => r.method === 'DELETE' && r.status === 204), 30_000, 100)
    const head = await fetch(url + uploadURL, { method: 'HEAD', headers: { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' } })
    assert.equal(head.status, 404, 'HEAD on the upload URL')
    assert.deepEqual(await tusKeys(page), [], 'nothing left to resume')
    assert.equal(await count(), videos, 'no video')
    // The lock documents go just after the DELETE is answered.
    const left = () => readdirSync(dir, { recursive: true }).filter((f) => String(f).includes(uploadID.split('.')[0]))
    await waitFor('nothing of the upload left on the server', () => left().length === 0, 10_000, 100).catch(() => {})
    assert.deepEqual(left(), [], 'no file of the upload left on the server (data, lock documents)')
  })

  test('tus: a server without resumable uploads gets one POST /api/upload', async () => {
    const { url } = await server()
    const page = await newPage()
    await page.addInitScript((t) => localStorage.setItem('assetlab.token', t), token)
    await page.route('**/api/config', async (route) => {
      const res = await route.fetch()
      const body = await res.json()
      body.features.resumable_uploads = false
      await route.fulfill({ response: res, json: body })
    })
    const sent = []
    page.on('request', (r) => {
      const p = new URL(r.url()).pathname
      if (p.startsWith('/api/upload')) sent.push(`${r.method()} ${p}`)
    })
    await page.goto(url + '/')
    await page.waitForResponse('**/api/config')
    await page.setInputFiles('#file', clip)
    await checkStored(page)
    assert.deepEqual(sent, ['POST /api/upload'])
  })
})
