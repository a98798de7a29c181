import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

// The window and the Wails runtime, faked: which drags the page takes, and
// the mark it puts on the root while files are over it.
const handlers = new Map<string, (e: unknown) => void>()
const classes = new Set<string>()
const onFileDrop = vi.fn()

beforeAll(() => {
  vi.useFakeTimers()
  vi.stubGlobal('localStorage', { getItem: () => null, setItem: () => {}, removeItem: () => {} })
  vi.stubGlobal('window', {
    runtime: { EventsOn: () => () => {}, OnFileDrop: onFileDrop },
    addEventListener: (type: string, fn: (e: unknown) => void) => handlers.set(type, fn),
  })
  vi.stubGlobal('document', {
    documentElement: { classList: { add: (c: string) => classes.add(c), remove: (c: string) => classes.delete(c) } },
  })
})
afterAll(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

function drag(type: string, types: string[]) {
  const e = { dataTransfer: { types, dropEffect: 'none' }, preventDefault: vi.fn() }
  handlers.get(type)!(e)
  return e
}

describe('enableFileDrop', () => {
  it("takes files as WebKitGTK shows them (a text/uri-list) and WebView2 does (Files), and leaves text alone", async () => {
    const { enableFileDrop } = await import('./desktop.svelte')
    enableFileDrop()
    expect(onFileDrop).toHaveBeenCalledWith(expect.any(Function), true)

    expect(drag('dragover', ['text/plain']).preventDefault).not.toHaveBeenCalled()
    expect(classes.size).toBe(0)
    for (const types of [['text/uri-list', 'text/html'], ['Files']]) {
      const e = drag('dragover', types)
      expect(e.preventDefault).toHaveBeenCalled() // else WebKit opens the file on drop
      expect(e.dataTransfer.dropEffect).toBe('copy')
      expect([...classes]).toEqual(['wails-drop-target-active'])
      // From one element to the next: dragleave, then dragover at once.
      handlers.get('dragleave')!({})
      drag('dragover', types)
      vi.advanceTimersByTime(500)
      expect(classes.size).toBe(1)
      // Out of the window: the mark goes.
      handlers.get('dragleave')!({})
      vi.advanceTimersByTime(500)
      expect(classes.size).toBe(0)
      drag('dragenter', types)
      const drop = drag('drop', types)
      expect(drop.preventDefault).toHaveBeenCalled()
      expect(classes.size).toBe(0)
    }
  })
})
