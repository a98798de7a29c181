import { afterEach, describe, expect, it, vi } from 'vitest'
import { getVideo, type Video } from './api'
import { isAbort, Loader } from './loader.svelte'

afterEach(() => vi.unstubAllGlobals())

const video = (id: string) => ({ id, status: 'done', renditions: [] }) as unknown as Video

/**
 * A fake fetch whose answers the test releases one by one, in any order.
 * honourAbort: false plays a server whose answer is already on its way when
 * the request is aborted.
 */
function fakeFetch(honourAbort: boolean) {
  const calls: { url: string; signal: AbortSignal; answer: () => void }[] = []
  vi.stubGlobal('fetch', (url: string, init: RequestInit = {}) => {
    const signal = init.signal!
    return new Promise<Response>((resolve, reject) => {
      const id = url.split('/').pop()!
      calls.push({ url, signal, answer: () => resolve(Response.json(video(id))) })
      if (honourAbort) signal.addEventListener('abort', () => reject(signal.reason))
    })
  })
  return calls
}

const settle = () => new Promise((r) => setTimeout(r, 0))

describe('Loader', () => {
  it.each([
    ['aborted', true],
    ['answered anyway', false],
  ])('a late answer for the old ID does not win (old request %s)', async (_, honourAbort) => {
    const calls = fakeFetch(honourAbort)
    const loader = new Loader<Video>()
    const first = loader.load((signal) => getVideo('old-id', signal))
    const second = loader.load((signal) => getVideo('new-id', signal))
    expect(calls.map((c) => c.url)).toEqual(['/api/videos/old-id', '/api/videos/new-id'])
    expect(calls[0].signal.aborted).toBe(true)
    expect(calls[1].signal.aborted).toBe(false)

    calls[1].answer()
    await second
    expect(loader.value?.id).toBe('new-id')

    // The old ID's answer comes last.
    calls[0].answer()
    await settle()
    expect(loader.value?.id).toBe('new-id')
    expect(loader.error).toBeUndefined()
    // Whoever waited on the old request gets the newer answer.
    expect((await first).id).toBe('new-id')
  })

  it('keeps the last video when a later request fails', async () => {
    const loader = new Loader<Video>()
    await loader.load(async () => video('a'))
    await loader.load(async () => Promise.reject(new Error('down'))).catch(() => {})
    expect(loader.value?.id).toBe('a')
    expect(String(loader.error)).toMatch(/down/)
  })

  it('stop drops the answer in flight, and its waiter hears an abort', async () => {
    const calls = fakeFetch(false)
    const loader = new Loader<Video>()
    const p = loader.load((signal) => getVideo('gone', signal))
    loader.stop()
    expect(calls[0].signal.aborted).toBe(true)
    calls[0].answer()
    const err = await p.catch((e) => e)
    expect(isAbort(err)).toBe(true)
    expect(loader.value).toBeUndefined()
  })

  it('clear forgets the last answer', async () => {
    const loader = new Loader<Video>()
    await loader.load(async () => video('a'))
    loader.clear()
    expect(loader.value).toBeUndefined()
  })
})
