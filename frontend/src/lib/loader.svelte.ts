// The latest answer to a request that a newer one replaces (another video,
// another token, the next poll). Starting a request aborts the one in flight,
// and an answer that still comes for it is dropped: a slow answer for an old
// ID never overwrites the new one.

export class Loader<T> {
  /** The last answer taken; kept while a newer request runs or after one fails. */
  value = $state<T | undefined>()
  /** Why the last request failed, or undefined. */
  error = $state<unknown>()

  #ctl: AbortController | null = null
  #latest: Promise<T> | null = null

  /**
   * Starts request, aborting the one in flight. The promise settles with
   * this request's outcome; if a newer one replaces it first, with the
   * newer one's; if stop() or clear() ends it, it rejects with an AbortError.
   */
  load(request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#ctl?.abort()
    const ctl = new AbortController()
    this.#ctl = ctl
    const p = request(ctl.signal).then(
      (v) => {
        if (this.#ctl !== ctl) return this.#replaced()
        this.value = v
        this.error = undefined
        return v
      },
      (e) => {
        if (this.#ctl !== ctl) return this.#replaced()
        this.error = e
        throw e
      },
    )
    this.#latest = p
    return p
  }

  #replaced(): Promise<T> {
    return this.#latest ?? Promise.reject(new DOMException('the request was stopped', 'AbortError'))
  }

  /** Aborts the request in flight; its answer is dropped. */
  stop(): void {
    this.#ctl?.abort()
    this.#ctl = null
    this.#latest = null
  }

  /** Stops, and forgets the last answer and error. */
  clear(): void {
    this.stop()
    this.value = undefined
    this.error = undefined
  }
}

/** Whether e is the rejection of an aborted request. */
export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError'
}
