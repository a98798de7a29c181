import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, defaultConfig, getConfig } from './api'
import { ConfigStore } from './config.svelte'

afterEach(() => vi.unstubAllGlobals())

describe('GET /api/config', () => {
  it("takes the server's limits", async () => {
    const body = { ...defaultConfig, max_upload_bytes: 8 << 20, accepted_extensions: ['.webm'] }
    vi.stubGlobal('fetch', async (url: string) => {
      expect(url).toBe('/api/config')
      return Response.json(body)
    })
    const store = new ConfigStore()
    await store.load()
    expect(store.fromServer).toBe(true)
    expect(store.current.max_upload_bytes).toBe(8 << 20)
    expect(store.current.accepted_extensions).toEqual(['.webm'])
  })

  it('keeps the defaults with an older server, which answers 404', async () => {
    vi.stubGlobal('fetch', async () => Response.json({ error: 'no such endpoint' }, { status: 404 }))
    expect(await getConfig()).toBeNull()
    const store = new ConfigStore()
    await store.load()
    expect(store.fromServer).toBe(false)
    expect(store.current).toEqual(defaultConfig)
  })

  it('keeps what it knows when the server cannot be reached', async () => {
    const store = new ConfigStore(async () => {
      throw new ApiError(0, 'unreachable')
    })
    store.current = { ...defaultConfig, max_upload_bytes: 5 }
    await store.load()
    expect(store.current.max_upload_bytes).toBe(5)
  })

  it('fills in what a partial answer leaves out', async () => {
    vi.stubGlobal('fetch', async () => Response.json({ max_upload_bytes: 1234 }))
    const cfg = await getConfig()
    expect(cfg?.max_upload_bytes).toBe(1234)
    expect(cfg?.accepted_types).toEqual(defaultConfig.accepted_types)
  })
})
