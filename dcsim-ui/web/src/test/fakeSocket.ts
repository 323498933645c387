// A WebSocket the component tests push bus events into (the e2e tests use the real /ws).

export class FakeSocket {
  static last: FakeSocket | null = null;
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
    setTimeout(() => this.onopen?.(), 0);
  }
  close() {
    this.onclose?.();
  }
  push(type: string, data: unknown) {
    this.onmessage?.({ data: JSON.stringify({ type, source: "dcsim", data }) });
  }
}
