// A workbin of 100,000 open tasks, with Tauri's IPC mocked: the page holds only the rows
// around the view, and only the pages those rows need (and the next) are read.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import WorkbinRows from "./WorkbinRows.svelte";

// jsdom lays nothing out: the scroller shows ten rows of 34 px.
const clientHeight = Object.getOwnPropertyDescriptor(Element.prototype, "clientHeight")!;
beforeEach(() => {
  Object.defineProperty(HTMLElement.prototype, "clientHeight", {
    configurable: true,
    get() {
      return (this as HTMLElement).dataset.testid === "workbin-scroller" ? 340 : 0;
    },
  });
});
afterEach(() => {
  Object.defineProperty(Element.prototype, "clientHeight", clientHeight);
  delete (HTMLElement.prototype as { clientHeight?: number }).clientHeight;
  cleanup();
  clearMocks();
});

const TOTAL = 100_000;
const task = (i: number) => ({
  case_reference: `FIN-${String(i + 1).padStart(6, "0")}`,
  case_subject: "Charged twice",
  task: { id: `t${i}`, case_id: `c${i}`, name: "Billing check", state: "queued", assignee: null, priority: 3, ola_clock: null },
});

describe("WorkbinRows", () => {
  it("renders a bounded number of rows for 100,000 tasks and reads only the first page and the next", async () => {
    const asked: { offset: number; limit: number }[] = [];
    mockIPC((cmd, args) => {
      if (cmd !== "workbin") throw new Error(`unexpected ${cmd}`);
      const { offset, limit } = args as { offset: number; limit: number };
      asked.push({ offset, limit });
      const tasks = Array.from({ length: Math.min(limit, TOTAL - offset) }, (_, k) => task(offset + k));
      return { total: TOTAL, offset, tasks };
    });
    render(WorkbinRows, {
      queue: "Finances_group_B",
      revision: 0,
      supervises: true,
      chosen: new Set<string>(),
      ontoggle: () => {},
      ontake: () => {},
      onopen: () => {},
      ondrag: () => {},
      onproblem: (m: string) => {
        throw new Error(m);
      },
    });
    await waitFor(() => expect(screen.getByTestId("workbin-count").textContent).toBe("100,000 open task(s)"));
    await waitFor(() => expect(screen.getByTestId("take-FIN-000001")).toBeTruthy());
    const rows = screen.getByTestId("workbin-tasks").querySelectorAll("tbody tr:not(.spacer)");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(40); // ten in view and the overscan around them
    // The first page, and the next read ahead: none of the other 498.
    await waitFor(() => expect(asked).toHaveLength(2));
    expect(asked).toEqual([
      { offset: 0, limit: 200 },
      { offset: 200, limit: 200 },
    ]);
    // The rows not drawn still count for the scroll bar and for assistive technology.
    expect(screen.getByTestId("workbin-tasks").getAttribute("aria-rowcount")).toBe(String(TOTAL + 1));
  });
});
