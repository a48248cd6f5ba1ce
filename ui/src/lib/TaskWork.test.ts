// Working a task, with Tauri's IPC mocked: the engine's refusal lands beside the field
// it names, and an accepted outcome sends what was typed and reports it done.
import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import TaskWork from "./TaskWork.svelte";
import type { Step } from "../bindings/Step";
import type { Task } from "../bindings/Task";

afterEach(() => clearMocks());

const step = {
  id: "refund_form",
  name: "Refund details",
  kind: "form",
  instructions: "Fill in the refund details.",
  queue: "Finances_group_B",
  escalation_chain: [],
  fields: [{ id: "amount", label: "Amount", type: "number", required: true, choices: [] }],
  skills: {},
  outcomes: [{ code: "submit", label: "Submit for approval", then: "next", reason_required: false }],
} as unknown as Step;
const task = { id: "t1", name: "Refund details" } as unknown as Task;

describe("TaskWork", () => {
  it("shows the engine's error beside the field, then sends the corrected form", async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "check_form") return [];
      if (cmd !== "execute") throw new Error(`unexpected ${cmd}`);
      const command = (args as { command: { form_values: { amount?: number } } }).command;
      sent.push(command);
      if ((command.form_values.amount ?? 0) < 0.01) throw { code: "invalid_field", message: "amount: must be at least 0.01" };
      return { events: [], created_id: null, reference: null, warnings: [] };
    });
    const ondone = vi.fn();
    render(TaskWork, { task, step, ondone });

    const amount = screen.getByTestId("field-amount") as HTMLInputElement;
    await fireEvent.input(amount, { target: { value: "0" } });
    await fireEvent.click(screen.getByTestId("outcome-submit"));
    expect((await screen.findByRole("alert")).textContent).toBe("must be at least 0.01");
    expect(amount.getAttribute("aria-invalid")).toBe("true");
    expect(ondone).not.toHaveBeenCalled();

    await fireEvent.input(amount, { target: { value: "59" } });
    await fireEvent.click(screen.getByTestId("outcome-submit"));
    await vi.waitFor(() => expect(ondone).toHaveBeenCalledOnce());
    expect(sent.at(-1)).toEqual({ type: "complete_task", task_id: "t1", outcome: "submit", form_values: { amount: 59 }, reason: null });
  });
});
