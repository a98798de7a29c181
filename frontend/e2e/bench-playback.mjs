// Playback benchmark: how soon an upload plays as HLS, what segmenting costs
// the ladder, and how hls.js picks rungs on a slow and a fast link. It runs
// headless Chromium (Debian's package, driven by playwright-core; nothing is
// downloaded) against the real server binary on the embedded default (local
// storage, in-process worker, real FFmpeg), and prints a report, also written
// to test-artifacts/bench/playback.txt. Timings are figures, never verdicts:
// the machine is shared and noisy.
//
// Environment:
//   BENCH_LENGTHS   clip lengths in seconds for time to first frame (default 10,120,600)
//   BENCH_RUNS      runs per length, median reported (default 1; lengths of 10 min or more run once)
//   BENCH_PARTS     which parts run: ttff,ladder,abr (default all three)
//   BENCH_ABR_SECONDS  length of the ABR clip (default 75)
//   BENCH_SECONDS   length of the ladder benchmark's clip (BenchmarkTranscodeLadder; default 12)
//   CHROMIUM        the browser (default /usr/bin/chromium)
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, openAsBlob, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createHTTPServer } from 'node:http'
import { createRequire } from 'node:module'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { chromiumPath, freePort, launchChromium } from './harness.mjs'

const root = path.resolve(import.meta.dirname, '../..')
const frontend = path.join(root, 'frontend')
const artifacts = path.join(root, 'test-artifacts', 'bench')
const reportPath = path.join(artifacts, 'playback.txt')
const token = 'bench-token-0123456789abcdef'
const clipCache = path.join(tmpdir(), 'assetlab-bench-clips')

const lengths = (process.env.BENCH_LENGTHS ?? '10,120,600').split(',').map(Number).filter((n) => n > 0)
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 1))
const parts = new Set((process.env.BENCH_PARTS ?? 'ttff,ladder,abr').split(','))
const abrSeconds = Number(process.env.BENCH_ABR_SECONDS ?? 75)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const sec = (ms) => (ms == null || Number.isNaN(ms) ? '   —  ' : `${(ms / 1000).toFixed(2).padStart(6)}`)
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`

// The report: printed as it goes, and written out (also when a part fails).
const lines = []
function say(line = '') {
  console.log(line)
  lines.push(line)
}
function writeReport() {
  mkdirSync(artifacts, { recursive: true })
  writeFileSync(reportPath, lines.join('\n') + '\n')
}

// What went wrong in the browser, whatever the part: console errors and
// warnings, page errors, failed requests and 4xx/5xx answers, hls.js errors.
const problems = new Map()
function problem(what) {
  problems.set(what, (problems.get(what) ?? 0) + 1)
}
// Signed URLs carry their signature in the query: keep the path only.
const pathOf = (u) => {
  try {
    const x = new URL(u)
    return x.origin.startsWith('http') ? x.pathname : u.slice(0, 80)
  } catch {
    return u.slice(0, 80)
  }
}

// ---------------------------------------------------------------------------
// Clips: 1080p30 testsrc2 with a sine tone, H.264/AAC MP4, made once into the
// cache folder (the name is the cache key).

function clipOf(seconds) {
  const file = path.join(clipCache, `testsrc2-1080p30-${seconds}s.mp4`)
  if (existsSync(file)) return file
  mkdirSync(clipCache, { recursive: true })
  const part = path.join(clipCache, `.${path.basename(file)}.${process.pid}.part`)
  const start = Date.now()
  console.log(`making a ${seconds} s 1080p30 clip in ${clipCache} (once)…`)
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', '-f', 'mp4', part])
  renameSync(part, file)
  console.log(`  made in ${((Date.now() - start) / 1000).toFixed(0)} s`)
  return file
}

// ---------------------------------------------------------------------------
// The server binary, started as the e2e tests start it, one per measurement
// (its own data, temp folder and worker, nothing else running in it). Its
// JSON log is kept for the breakdown.

let tmp
const servers = new Set()

async function startServer(label) {
  const port = await freePort()
  const dir = mkdtempSync(path.join(tmp, `server-${label}-`))
  const data = path.join(dir, 'data')
  const work = path.join(dir, 'work')
  const proc = spawn(path.join(root, 'bin', 'assetlab-server'), [], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: token,
      ASSETLAB_DATA_DIR: data,
      ASSETLAB_TMP_DIR: work,
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      ASSETLAB_LOG_LEVEL: 'debug',
      ASSETLAB_LOG_FORMAT: 'json',
      // The 10-minute clip is about 1.2 GB.
      ASSETLAB_MAX_UPLOAD_BYTES: '8GiB',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const log = []
  let rest = ''
  proc.stderr.setEncoding('utf8')
  proc.stderr.on('data', (chunk) => {
    rest += chunk
    const parts = rest.split('\n')
    rest = parts.pop()
    for (const l of parts) {
      try {
        log.push(JSON.parse(l))
      } catch {
        log.push({ msg: l, time: new Date().toISOString() })
      }
    }
  })
  const exited = new Promise((r) => proc.on('exit', r))
  const server = { url: `http://127.0.0.1:${port}`, proc, log, data, work, label, exited }
  servers.add(server)
  for (let i = 0; ; i++) {
    // The in-process worker is ready to take the upload at once.
    if (log.some((e) => e.msg === 'worker started')) break
    if (proc.exitCode != null || i > 600) throw new Error(`server did not start:\n${log.map((e) => JSON.stringify(e)).join('\n')}`)
    await sleep(50)
  }
  return server
}

// Stops a server (and with it any FFmpeg it runs), keeping its log.
async function stopServer(s) {
  if (!servers.has(s)) return
  servers.delete(s)
  s.proc.kill('SIGTERM')
  const t = setTimeout(() => s.proc.kill('SIGKILL'), 20_000)
  await s.exited
  clearTimeout(t)
  writeFileSync(path.join(artifacts, `server-${s.label}.log`), s.log.map((e) => JSON.stringify(e)).join('\n') + '\n')
}

/** Uploads file through POST /api/upload (streamed from disk); times it to the 201. */
async function upload(base, file) {
  const form = new FormData()
  form.append('file', await openAsBlob(file, { type: 'video/mp4' }), path.basename(file))
  const start = Date.now()
  const res = await fetch(base + '/api/upload', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form })
  const created = Date.now()
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`)
  const { id } = await res.json()
  return { id, start, created }
}

const details = async (base, id) => (await fetch(`${base}/api/videos/${id}`)).json()

/**
 * Watches a transcode from the outside, from the 201 on: GET /api/videos/{id}
 * every 250 ms (status, hls_url, playable_seconds), and every 50 ms the
 * worker's temp folder (FFmpeg's outputs and its playlists, which it writes
 * once a rendition's first segment is done) and the video store (the first
 * published segment, the master playlist). Each first sighting is timed.
 */
function watchServer(s, id) {
  const seen = {}
  const mark = (k) => (seen[k] ??= Date.now())
  let last = {}
  let stop = false
  const api = (async () => {
    while (!stop) {
      try {
        const d = await details(s.url, id)
        last = d
        if (d.status === 'processing' || d.status === 'done') mark('processing')
        if (d.hls_url) mark('hlsURL')
        if (d.playable_seconds > 0) mark('playable')
        if (d.status === 'done') mark('done')
        if (d.status === 'error') mark('error')
      } catch {}
      await sleep(250)
    }
  })()
  const storeDir = path.join(s.data, 'videos', 'videos', id, 'a1')
  const files = setInterval(() => {
    try {
      for (const d of readdirSync(s.work)) {
        if (!d.startsWith('assetlab-')) continue
        mark('tempDir')
        for (const f of readdirSync(path.join(s.work, d))) {
          if (f.endsWith('.mp4') && /^\d+p\.mp4$/.test(f)) mark('ffmpegOutput')
          if (f.endsWith('.m3u8')) mark(`segment0:${f.slice(0, -5)}`)
        }
      }
    } catch {}
    if (existsSync(path.join(storeDir, '360p', '0.m4s'))) mark('published360p0')
    if (existsSync(path.join(storeDir, 'master.m3u8'))) mark('master')
  }, 50)
  return {
    seen,
    last: () => last,
    async stop() {
      stop = true
      clearInterval(files)
      await api
    },
  }
}

/** The first time the server logged msg about video id. */
function logTime(s, msg, id) {
  const e = s.log.find((e) => e.msg === msg && (!id || e.video_id === id))
  return e ? Date.parse(e.time) : undefined
}

// ---------------------------------------------------------------------------
// The browser, and the minimal hls.js page this script serves itself (on an
// origin of its own, as the desktop app's player is).

let browser, player

function hlsScript() {
  const pkg = JSON.parse(readFileSync(path.join(frontend, 'package.json'), 'utf8'))
  if (!pkg.dependencies?.['hls.js']) throw new Error('hls.js is not a dependency in frontend/package.json')
  return readFileSync(createRequire(path.join(frontend, 'package.json')).resolve('hls.js/dist/hls.min.js'))
}

const playerPage = `<!doctype html>
<meta charset="utf-8"><title>hls.js bench player</title>
<video id="v" muted playsinline width="960" height="540"></video>
<script src="/hls.js"></script>
<script>
const v = document.getElementById('v')
const b = (window.bench = { errors: [], switches: [], stalls: 0, stallMs: 0, waitingSince: 0 })
v.addEventListener('waiting', () => {
  if (b.firstFrameAt && !b.waitingSince) { b.stalls++; b.waitingSince = Date.now() }
})
v.addEventListener('playing', () => {
  if (b.waitingSince) { b.stallMs += Date.now() - b.waitingSince; b.waitingSince = 0 }
})
v.addEventListener('ended', () => (b.endedAt = Date.now()))
b.play = (url) => {
  b.playAt = Date.now()
  const hls = (window.hls = new Hls({ startPosition: 0 }))
  hls.on(Hls.Events.ERROR, (_, d) => b.errors.push({ at: Date.now(), type: d.type, details: d.details, fatal: d.fatal,
    url: (d.frag && d.frag.url) || (d.context && d.context.url) || '', code: d.response && d.response.code }))
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    b.manifestAt = Date.now()
    v.play().catch((e) => b.errors.push({ at: Date.now(), type: 'play', details: String(e) }))
  })
  hls.on(Hls.Events.FRAG_BUFFERED, () => (b.firstFragAt ??= Date.now()))
  hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => b.switches.push({ at: Date.now(), level: d.level }))
  hls.loadSource(url)
  hls.attachMedia(v)
  const t = setInterval(() => {
    if (v.currentTime > 0) { b.firstFrameAt = Date.now(); clearInterval(t) }
  }, 10)
}
// Polls the details every 250 ms until the stream is there, then plays it.
b.start = async (base, id) => {
  b.startAt = Date.now()
  for (;;) {
    try {
      const r = await fetch(base + '/api/videos/' + id)
      if (r.ok) {
        const d = await r.json()
        if (d.hls_url) { b.hlsURLAt = Date.now(); b.play(d.hls_url); return }
        if (d.status === 'error') { b.failed = d.error; return }
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 250))
  }
}
b.sample = () => {
  const hls = window.hls
  const level = (i) => (hls.levels[i] ? hls.levels[i].height : -1)
  let ahead = 0
  for (let i = 0; i < v.buffered.length; i++) {
    if (v.buffered.start(i) <= v.currentTime + 0.1 && v.buffered.end(i) > v.currentTime) ahead = v.buffered.end(i) - v.currentTime
  }
  return { playing: level(hls.currentLevel), loading: level(hls.loadLevel), bw: hls.bandwidthEstimate, ahead,
    time: v.currentTime, stalls: b.stalls, waiting: !!b.waitingSince, ended: v.ended,
    dropped: v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().droppedVideoFrames : 0 }
}
</script>`

async function startPlayerServer() {
  const js = hlsScript()
  const srv = createHTTPServer((req, res) => {
    if (req.url === '/hls.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(js)
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204).end()
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(playerPage)
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${srv.address().port}/`, close: () => srv.close() }
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  page.on('pageerror', (e) => problem(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return
    const at = m.location()?.url ? ` (${pathOf(m.location().url)})` : ''
    problem(`console ${m.type()}: ${m.text().slice(0, 160)}${at}`)
  })
  page.on('requestfailed', (r) => {
    // A request the page cancelled on purpose (a restart, the end) is no fault.
    if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? '')) problem(`request failed: ${r.method()} ${pathOf(r.url())} (${r.failure()?.errorText})`)
  })
  page.on('response', (r) => {
    if (r.status() >= 400) problem(`HTTP ${r.status()}: ${r.request().method()} ${pathOf(r.url())}`)
  })
  return page
}

// ---------------------------------------------------------------------------
// 1. Time to first frame.

/** Keeps watching for a while after the first frame: how far it plays, and how often it waits for the transcode. */
async function afterStart(page, stateFn, arg, seconds) {
  await sleep(seconds * 1000)
  return page.evaluate(stateFn, arg)
}

/** One upload, played with the minimal page (a) or the watch page (b). */
async function firstFrame(mode, seconds, run) {
  const s = await startServer(`ttff-${mode}-${seconds}s-${run}`)
  const page = await newPage()
  const load0 = loadavg()[0]
  try {
    if (mode === 'a') {
      await page.goto(player.url)
      await page.waitForFunction(() => window.bench && window.Hls)
    } else {
      // The watch page starts paused on the original; once it has switched
      // to the stream (a blob: source, hls.js's MediaSource), play it, as a
      // viewer would press play. Pressed earlier, the page would keep the
      // original playing.
      await page.addInitScript(() => {
        const b = (window.__bench = { stalls: 0 })
        const t = setInterval(() => {
          const v = document.querySelector('video')
          if (!v) return
          if (!v.currentSrc.startsWith('blob:')) return
          if (!b.hlsAt) {
            b.hlsAt = Date.now()
            v.addEventListener('waiting', () => b.firstFrameAt && b.stalls++)
            v.muted = true
            v.play().catch((e) => (b.playError = String(e)))
          }
          if (!b.firstFrameAt && v.currentTime > 0) {
            b.firstFrameAt = Date.now()
            clearInterval(t)
          }
        }, 10)
      })
    }
    const clip = clipOf(seconds)
    const up = await upload(s.url, clip)
    const watch = watchServer(s, up.id)
    if (mode === 'a') {
      page.evaluate(({ base, id }) => window.bench.start(base, id), { base: s.url, id: up.id })
    } else {
      page.goto(`${s.url}/watch/${up.id}`).catch(() => {})
    }
    const timeout = 300_000
    const key = mode === 'a' ? 'bench' : '__bench'
    try {
      await page.waitForFunction((k) => window[k]?.firstFrameAt || window[k]?.failed, key, { timeout, polling: 50 })
    } catch {
      problem(`(${mode}) ${seconds} s clip: no HLS frame within ${timeout / 1000} s`)
    }
    if (s.proc.exitCode != null) {
      problem(`(${mode}) ${seconds} s clip: the server exited (${s.proc.exitCode}): ${s.log.slice(-3).map((e) => e.msg).join(' | ')}`)
    }
    const b = await page.evaluate((k) => window[k] ?? {}, key)
    // A while longer: does playback catch up with the transcode and wait?
    const later = b.firstFrameAt
      ? await afterStart(page, (k) => ({ time: document.querySelector('video').currentTime, stalls: window[k].stalls }), key, 20)
      : undefined
    await watch.stop()
    const srcNow = await page.evaluate(() => document.querySelector('video')?.currentSrc ?? '')
    if (mode === 'b' && b.firstFrameAt && !srcNow.startsWith('blob:')) problem(`(b) watch page left the stream: ${pathOf(srcNow)}`)
    const d = watch.last()
    const w = watch.seen
    const rungs = Object.keys(w).filter((k) => k.startsWith('segment0:'))
    const r = {
      mode, seconds, run, load: load0,
      upload: up.created - up.start,
      id: up.id,
      // All relative to the 201.
      claimed: logTime(s, 'transcoding', up.id) - up.created,
      processing: w.processing - up.created,
      tempDir: w.tempDir - up.created,
      ffmpegOutput: w.ffmpegOutput - up.created,
      firstSegment: Math.min(...rungs.map((k) => w[k])) - up.created,
      allFirstSegments: rungs.length >= 3 ? Math.max(...rungs.map((k) => w[k])) - up.created : undefined,
      published360p0: w.published360p0 - up.created,
      master: w.master - up.created,
      playable: w.playable - up.created,
      hlsURL: (mode === 'a' ? b.hlsURLAt : w.hlsURL) - up.created,
      pageHLS: mode === 'b' ? b.hlsAt - up.created : b.hlsURLAt - up.created,
      manifest: b.manifestAt - up.created,
      firstFrag: b.firstFragAt - up.created,
      firstFrame: b.firstFrameAt - up.created,
      progress: d.progress,
      playableNow: d.playable_seconds,
      later,
      errors: b.errors ?? [],
      failed: b.failed,
    }
    for (const e of r.errors) problem(`hls.js ${e.fatal ? 'fatal' : 'non-fatal'} ${e.type}/${e.details}${e.code ? ' ' + e.code : ''} ${pathOf(e.url || '')}`)
    return r
  } finally {
    await page.context().close()
    await stopServer(s)
  }
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b)
  if (!v.length) return undefined
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

async function partFirstFrame() {
  const watchPageHasHLS = (() => {
    const pkg = JSON.parse(readFileSync(path.join(frontend, 'package.json'), 'utf8'))
    return !!pkg.dependencies?.['hls.js']
  })()
  const modes = watchPageHasHLS ? ['a', 'b'] : ['a']
  say('## 1. Time to first frame of the HLS stream (1080p30 H.264/AAC uploads; seconds after the upload\'s 201)')
  say('(a) minimal hls.js page (own origin, polls GET /api/videos/{id} every 250 ms, startPosition 0)')
  say(watchPageHasHLS
    ? '(b) the web UI\'s watch page /watch/{id}, opened at the 201 (polling the details on its own), play pressed once its <video> plays a blob: (hls.js) source'
    : '(b) skipped: this build\'s web UI has no hls.js (frontend/package.json)')
  const results = []
  for (const seconds of lengths) {
    const n = seconds >= 600 ? 1 : runs
    for (let run = 1; run <= n; run++) {
      for (const mode of modes) {
        console.log(`… (${mode}) ${seconds} s clip, run ${run}/${n}`)
        const r = await firstFrame(mode, seconds, run)
        results.push(r)
        console.log(`  first frame ${sec(r.firstFrame)} s after the 201 (upload ${sec(r.upload)} s), load ${r.load.toFixed(1)}`)
        writeReport()
      }
    }
  }
  say()
  say('Medians per length (n = runs). Server view from the outside: "processing" and "playable_seconds > 0" as GET /api/videos/{id} polled every 250 ms first saw them.')
  say('mode length  n  upload  →processing  →playable>0  →hls_url(page)  →first frame')
  for (const mode of modes) {
    for (const seconds of lengths) {
      const rs = results.filter((r) => r.mode === mode && r.seconds === seconds)
      const m = (k) => sec(median(rs.map((r) => r[k])))
      say(`(${mode})  ${String(seconds).padStart(4)} s  ${rs.length}  ${m('upload')}  ${m('processing')}       ${m('playable')}       ${m('pageHLS')}         ${m('firstFrame')}   (target <= 5 s)`)
    }
  }
  say()
  say('Breakdown per run (seconds after the 201): claim = worker logs "transcoding"; ffmpeg = its output files appear (probe done,')
  say('encoders running); seg0 = FFmpeg lists the first 360p segment / every rung\'s first; pub = 360p/0.m4s, master.m3u8 stored;')
  say('api = playable_seconds > 0; page = player has hls_url (b: plays a blob: source); mfst/frag = hls.js manifest parsed / first')
  say('fragment buffered; frame = currentTime > 0; then 20 s later: position reached and waits (stalls) for the transcode.')
  for (const r of results) {
    const later = r.later ? `; +20 s: at ${r.later.time.toFixed(1)} s, ${r.later.stalls} stall(s), ${r.playableNow ?? 0} s playable` : ''
    say(`(${r.mode}) ${r.seconds}s #${r.run} load ${r.load.toFixed(1)}: upload ${sec(r.upload).trim()} | claim ${sec(r.claimed).trim()}` +
      ` ffmpeg ${sec(r.ffmpegOutput).trim()} seg0 ${sec(r.firstSegment).trim()}/${sec(r.allFirstSegments).trim()}` +
      ` pub ${sec(r.published360p0).trim()}/${sec(r.master).trim()} api ${sec(r.playable).trim()} page ${sec(r.pageHLS).trim()}` +
      (r.mode === 'a' ? ` mfst ${sec(r.manifest).trim()} frag ${sec(r.firstFrag).trim()}` : '') +
      ` frame ${sec(r.firstFrame).trim()}${later}${r.failed ? ` FAILED: ${r.failed}` : ''}`)
  }
  say()
  return results
}

// ---------------------------------------------------------------------------
// 2. The ladder with HLS against a plain single-MP4 pass: the Go benchmark.

async function partLadder() {
  say('## 2. Ladder wall time: one FFmpeg pass to HLS against one pass to plain MP4 (BenchmarkTranscodeLadder, worker/bench_test.go)')
  const start = Date.now()
  const out = await new Promise((resolve, reject) => {
    const p = spawn('go', ['test', '-count=1', '-run', '^$', '-bench', 'BenchmarkTranscodeLadder', '-benchtime', '1x', '-timeout', '30m', './worker/'], {
      cwd: root,
      env: { ...process.env, PATH: `/usr/local/go/bin:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let text = ''
    p.stdout.on('data', (c) => (text += c))
    p.stderr.on('data', (c) => (text += c))
    p.on('error', reject)
    p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`go test exited ${code}:\n${text}`))))
  })
  const methods = {}
  for (const l of out.split('\n')) {
    const m = l.match(/^\s+(.+?)\s+([\d.]+) s, CPU\s+([\d.]+) s,\s+([\d.]+) MB:/)
    if (m) methods[m[1]] = { wall: Number(m[2]), cpu: Number(m[3]), mb: Number(m[4]) }
  }
  for (const l of out.split('\n').filter((l) => l.startsWith('    ') || /^Benchmark/.test(l))) say(l)
  const hls = methods['one ffmpeg pass to HLS, local file']
  const plain = methods['one ffmpeg pass to plain MP4, local file']
  if (!hls || !plain) throw new Error(`the benchmark's report lacks the HLS or plain MP4 pass:\n${out}`)
  say(`=> segmenting overhead, HLS pass / plain MP4 pass: wall ${(hls.wall / plain.wall).toFixed(2)} (${hls.wall} s / ${plain.wall} s),` +
    ` FFmpeg CPU ${(hls.cpu / plain.cpu).toFixed(2)} (${hls.cpu} s / ${plain.cpu} s; steadier than wall on a shared machine)`)
  say(`=> bytes stored, HLS renditions (one fMP4 per rung) / plain MP4 files: ${(hls.mb / plain.mb).toFixed(2)} (${hls.mb} MB / ${plain.mb} MB);` +
    ' while a video transcodes (and for the segment grace after), its separate segments are stored too: see part 3')
  say(`(the HLS pass also makes the poster JPEG; the benchmark took ${((Date.now() - start) / 1000).toFixed(0)} s in all)`)
  say()
}

// ---------------------------------------------------------------------------
// 3. ABR: a finished stream on a throttled link, then on an open one.

function storedBytes(dir) {
  const sizes = { renditions: 0, segments: 0, playlists: 0, other: 0 }
  const walk = (d, rel) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p, rel + e.name + '/')
      else if (rel && /\.(m4s|mp4)$/.test(e.name)) sizes.segments += statSync(p).size
      else if (e.name.endsWith('.mp4')) sizes.renditions += statSync(p).size
      else if (e.name.endsWith('.m3u8')) sizes.playlists += statSync(p).size
      else sizes.other += statSync(p).size
    }
  }
  walk(dir, '')
  return sizes
}

async function session(url, label, throttle, maxSeconds, enough) {
  const page = await newPage()
  try {
    await page.goto(player.url)
    await page.waitForFunction(() => window.bench && window.Hls)
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Network.enable')
    if (throttle) {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false, latency: 40, downloadThroughput: throttle / 8, uploadThroughput: -1,
      })
    }
    await page.evaluate((u) => window.bench.play(u), url)
    await page.waitForFunction(() => window.bench.firstFrameAt, null, { timeout: 60_000 })
    const b0 = await page.evaluate(() => window.bench)
    say(`${label}: first frame ${sec(b0.firstFrameAt - b0.playAt).trim()} s after loading the master playlist`)
    say('   t  playing  loading  est. Mbit/s  buffer s  position  stalls')
    const samples = []
    const t0 = Date.now()
    for (;;) {
      const x = await page.evaluate(() => window.bench.sample())
      x.t = (Date.now() - t0) / 1000
      samples.push(x)
      say(`${x.t.toFixed(0).padStart(4)}  ${String(x.playing).padStart(6)}p ${String(x.loading).padStart(7)}p ${(x.bw / 1e6).toFixed(2).padStart(11)} ` +
        `${x.ahead.toFixed(1).padStart(9)} ${x.time.toFixed(1).padStart(9)} ${String(x.stalls).padStart(7)}${x.waiting ? ' (waiting)' : ''}`)
      if (x.ended || x.t >= maxSeconds || enough(samples)) break
      await sleep(2000 - ((Date.now() - t0) % 2000))
    }
    const b = await page.evaluate(() => window.bench)
    for (const e of b.errors) problem(`hls.js ${e.fatal ? 'fatal' : 'non-fatal'} ${e.type}/${e.details}${e.code ? ' ' + e.code : ''} ${pathOf(e.url || '')}`)
    const heights = await page.evaluate(() => window.hls.levels.map((l) => l.height))
    const switches = b.switches.map((s) => `${((s.at - b.playAt) / 1000).toFixed(1)} s → ${heights[s.level]}p`).join(', ')
    const last = samples.at(-1)
    say(`${label}: level switches (played): ${switches || 'none'}; stalls after start: ${b.stalls} (${(b.stallMs / 1000).toFixed(1)} s waiting);` +
      ` dropped frames ${last.dropped}; errors ${b.errors.length}`)
    say()
    return { samples, heights, b }
  } finally {
    await page.context().close()
  }
}

async function partABR() {
  say(`## 3. ABR: a ${abrSeconds} s 1080p clip, uploaded and transcoded, played with the minimal hls.js page`)
  const s = await startServer('abr')
  try {
    const up = await upload(s.url, clipOf(abrSeconds))
    const t0 = Date.now()
    let d
    for (;;) {
      d = await details(s.url, up.id)
      if (d.status === 'done' || d.status === 'error') break
      if (Date.now() - t0 > 30 * 60_000) throw new Error('the ABR clip did not finish transcoding in 30 min')
      await sleep(1000)
    }
    if (d.status !== 'done') throw new Error(`the ABR clip failed: ${d.error}`)
    const took = (Date.now() - up.created) / 1000
    say(`transcoded in ${took.toFixed(0)} s after the 201 (${(abrSeconds / took).toFixed(2)}× real time, load ${loadavg()[0].toFixed(1)}); stream: ${pathOf(d.hls_url)}`)
    const master = await (await fetch(d.hls_url)).text()
    for (const l of master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'))) say(`  ${l}`)
    const sizes = storedBytes(path.join(s.data, 'videos', 'videos', up.id, 'a1'))
    say(`stored for this attempt: renditions ${mb(sizes.renditions)}, separate segments ${mb(sizes.segments)} (deleted after the grace period),` +
      ` playlists ${(sizes.playlists / 1e3).toFixed(1)} kB, other ${mb(sizes.other)}; original ${mb(statSync(clipOf(abrSeconds)).size)}`)
    say()
    const slow = await session(d.hls_url, 'throttled to 1.5 Mbit/s down, 40 ms', 1_500_000, 60, () => false)
    const top = Math.max(...slow.heights)
    // Open: until the top rung has played for three samples, at most 60 s.
    const fast = await session(d.hls_url, 'unthrottled', 0, 60, (xs) => xs.slice(-3).length === 3 && xs.slice(-3).every((x) => x.playing === top))
    const slowRungs = [...new Set(slow.samples.map((x) => x.playing))].join('p, ')
    const reachedTop = fast.samples.findIndex((x) => x.playing === top)
    say(`throttled: played ${slowRungs}p, ${slow.b.stalls} stall(s); unthrottled: ` +
      (reachedTop >= 0 ? `top rung (${top}p) playing ${fast.samples[reachedTop].t.toFixed(0)} s after the first frame` : `did NOT reach the top rung (${top}p)`))
    if (reachedTop < 0) problem(`ABR: unthrottled playback did not reach ${top}p`)
    say()
  } finally {
    await stopServer(s)
  }
}

// ---------------------------------------------------------------------------

async function main() {
  mkdirSync(artifacts, { recursive: true })
  tmp = mkdtempSync(path.join(tmpdir(), 'assetlab-bench-'))
  if (!existsSync(path.join(root, 'bin', 'assetlab-server'))) throw new Error('bin/assetlab-server is missing: run make build (or make bench-playback)')
  const commit = (() => {
    try {
      return execFileSync('git', ['-C', root, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim()
    } catch {
      return '?'
    }
  })()
  say(`AssetLab playback benchmark, ${new Date().toISOString()}, ${commit}`)
  say(`machine: ${cpus().length} cores (${cpus()[0]?.model}), load ${loadavg().map((x) => x.toFixed(1)).join(' ')} at start; shared, noisy: figures vary run to run`)
  say(`server: bin/assetlab-server, local storage, one in-process worker (x264 veryfast), a fresh server per measurement; browser: ${chromiumPath}`)
  say()
  if (parts.has('ttff') || parts.has('abr')) {
    for (const s of [...(parts.has('ttff') ? lengths : []), ...(parts.has('abr') ? [abrSeconds] : [])]) clipOf(s)
    player = await startPlayerServer()
    browser = await launchChromium()
    say(`browser: Chromium ${browser.version()}, hls.js ${JSON.parse(readFileSync(createRequire(path.join(frontend, 'package.json')).resolve('hls.js/package.json'), 'utf8')).version}`)
    say()
  }
  let failed = false
  for (const [name, fn] of [['ttff', partFirstFrame], ['ladder', partLadder], ['abr', partABR]]) {
    if (!parts.has(name)) continue
    try {
      await fn()
    } catch (e) {
      failed = true
      say(`!! ${name} failed: ${e.stack ?? e}`)
      say()
    }
    writeReport()
  }
  say('## Problems seen in the browser (console, page errors, failed requests, 4xx/5xx, hls.js errors), with counts')
  if (!problems.size) say('none')
  for (const [what, n] of problems) say(`${String(n).padStart(4)}× ${what}`)
  say(`load at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  writeReport()
  console.log(`\nreport written to ${path.relative(process.cwd(), reportPath)}`)
  return failed
}

let failed = true
try {
  failed = await main()
} finally {
  await browser?.close()
  player?.close()
  for (const s of servers) await stopServer(s)
  if (tmp) rmSync(tmp, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
