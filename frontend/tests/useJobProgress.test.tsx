import { describe, expect, it, vi } from "vitest";
import { act, render, screen } from "@testing-library/react";
import { jobSocketUrl, useJobProgress } from "../src/lib/jobs/useJobProgress";

class FakeSocket {
  static last: FakeSocket | null = null;
  url: string;
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(url: string) {
    this.url = url;
    FakeSocket.last = this;
  }
  close() {
    this.closed = true;
  }
  send(data: object) {
    this.onmessage?.({ data: JSON.stringify(data) });
  }
}

function Probe({ onFinal, status = "queued" }: { onFinal: (s: string) => void; status?: string }) {
  const live = useJobProgress("job-1", { status, progress: 0, message: "queued" }, onFinal);
  return <output>{`${live.status} ${Math.round(live.progress * 100)} ${live.message} ${live.error ?? ""}`.trim()}</output>;
}

describe("useJobProgress", () => {
  it("builds the socket URL from the page's origin", () => {
    expect(jobSocketUrl("a b", { protocol: "https:", host: "x.example:8443" } as Location)).toBe("wss://x.example:8443/api/v1/ws/jobs/a%20b");
    expect(jobSocketUrl("id", { protocol: "http:", host: "localhost:5173" } as Location)).toBe("ws://localhost:5173/api/v1/ws/jobs/id");
  });

  it("follows progress messages and reports the final status once", () => {
    vi.stubGlobal("WebSocket", FakeSocket);
    const onFinal = vi.fn();
    render(<Probe onFinal={onFinal} />);
    const socket = FakeSocket.last as FakeSocket;
    expect(socket.url).toMatch(/\/api\/v1\/ws\/jobs\/job-1$/);
    act(() => socket.send({ type: "progress", status: "running", progress: 0.42, message: "simulating" }));
    expect(screen.getByText("running 42 simulating")).toBeInTheDocument();
    act(() => socket.send({ type: "status", status: "succeeded", progress: 1, message: "finished" }));
    expect(screen.getByText("succeeded 100 finished")).toBeInTheDocument();
    expect(onFinal).toHaveBeenCalledExactlyOnceWith("succeeded");
  });

  it("explains a refused feed and opens none for a finished job", () => {
    vi.stubGlobal("WebSocket", FakeSocket);
    FakeSocket.last = null;
    const { unmount } = render(<Probe onFinal={() => undefined} status="succeeded" />);
    expect(FakeSocket.last).toBeNull();
    unmount();
    render(<Probe onFinal={() => undefined} />);
    act(() => FakeSocket.last?.onclose?.({ code: 4401 }));
    expect(screen.getByText(/not signed in/)).toBeInTheDocument();
  });
});
