// The desktop app's offer to go on with uploads left unfinished when it last
// closed: the list, as the Go side gives it, and what Resume and Discard do.
// Uploads that cannot go on (the file changed, the server dropped them) are
// told once, as notices: the Go side has forgotten them already.
import type { PendingUpload } from './desktop.svelte'
import { errorMessage } from './errors'

export interface ResumeIO {
  /** The unfinished uploads to the server in use (Go's PendingUploads). */
  list(): Promise<PendingUpload[] | null>
  /** Ends an unfinished upload on the server and forgets it (Go's DiscardUpload). */
  discard(url: string): Promise<void>
  /** Starts the upload flow on the file at path, going on with the upload at url. */
  resume(url: string, path: string): void
}

export class Resumes {
  /** Uploads that can go on. */
  pending = $state<PendingUpload[]>([])
  /** Why some could not, and other problems, until dismissed. */
  notices = $state<string[]>([])

  constructor(private io: ResumeIO) {}

  /** Asks the Go side for the list again. */
  async load(): Promise<void> {
    try {
      const list = (await this.io.list()) ?? []
      this.pending = list.filter((p) => !p.problem)
      this.#tell(list.flatMap((p) => (p.problem ? [p.problem] : [])))
    } catch (e) {
      this.#tell([errorMessage(e)])
    }
  }

  resume(p: PendingUpload): void {
    this.pending = this.pending.filter((q) => q.url !== p.url)
    this.io.resume(p.url, p.path)
  }

  async discard(p: PendingUpload): Promise<void> {
    this.pending = this.pending.filter((q) => q.url !== p.url)
    try {
      await this.io.discard(p.url)
    } catch (e) {
      this.#tell([errorMessage(e)])
      await this.load()
    }
  }

  dismiss(): void {
    this.notices = []
  }

  #tell(messages: string[]): void {
    const fresh = messages.filter((m) => !this.notices.includes(m))
    if (fresh.length) this.notices = [...this.notices, ...fresh]
  }
}

/** How much of an unfinished upload the server has: "43 % sent", or "" when it could not be asked. */
export function sentLabel(p: PendingUpload): string {
  return p.percent >= 0 ? `${Math.floor(p.percent)} % sent` : ''
}
