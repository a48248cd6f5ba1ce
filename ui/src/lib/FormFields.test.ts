// Checking a form as it is typed in, with Tauri's IPC mocked: the engine's rule for a
// field appears beside it after a pause, only once that field was typed in, and goes
// when the value is put right.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import FormFields from "./FormFields.svelte";
import type { FieldDef } from "../bindings/FieldDef";

afterEach(() => {
  cleanup();
  clearMocks();
});

const fields = [
  { id: "amount", label: "Amount", type: "number", required: true, choices: [], min: 0.01 },
  { id: "email", label: "Email", type: "email", required: true, choices: [] },
] as unknown as FieldDef[];

describe("FormFields", () => {
  it("shows the engine's rule for a field as it is typed, and clears it when put right", async () => {
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd !== "check_form") throw new Error(`unexpected ${cmd}`);
      const { values } = args as { values: { amount?: number; email?: string } };
      asked.push(values);
      const problems = [];
      if ((values.amount ?? 0) < 0.01) problems.push({ field: "amount", rule: "must be at least 0.01" });
      if (!values.email) problems.push({ field: "email", rule: "is required" });
      return problems;
    });
    render(FormFields, { fields, values: {}, error: null });

    const amount = screen.getByTestId("field-amount");
    await fireEvent.input(amount, { target: { value: "0" } });
    await waitFor(() => expect(screen.getByTestId("problem-amount").textContent).toBe("must be at least 0.01"));
    expect(amount.getAttribute("aria-invalid")).toBe("true");
    expect(amount.getAttribute("aria-describedby")).toBe(screen.getByTestId("problem-amount").id);
    // The email was not typed in yet: its "is required" waits for a submit.
    expect(screen.queryByTestId("problem-email")).toBeNull();
    expect(asked.at(-1)).toEqual({ amount: 0 });

    await fireEvent.input(amount, { target: { value: "59" } });
    await waitFor(() => expect(screen.queryByTestId("problem-amount")).toBeNull());
    expect(amount.getAttribute("aria-invalid")).toBe("false");
  });

  it("keeps a refused submit's error beside its field until that field changes", async () => {
    mockIPC(() => []);
    render(FormFields, { fields, values: {}, error: { field: "email", message: "is required" } });
    expect(screen.getByTestId("problem-email").textContent).toBe("is required");
    await fireEvent.input(screen.getByTestId("field-email"), { target: { value: "ada@example.com" } });
    await waitFor(() => expect(screen.queryByTestId("problem-email")).toBeNull());
  });
});
