// Finding the customer of a new case, with Tauri's IPC mocked: matches are offered as
// typed and one is chosen; the engine's refusal is said, not shown as "no match".
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import CustomerPicker from "./CustomerPicker.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
});

const maria = { id: "c1", name: "Maria Keller", email: "maria.keller@example.com", phone: null, external_id: "CRM-1001", extra: {} };

describe("CustomerPicker", () => {
  it("offers the customers found as typed and keeps the one chosen", async () => {
    mockIPC((cmd, args) => {
      if (cmd !== "search_customers") throw new Error(`unexpected ${cmd}`);
      return (args as { query: string }).query.includes("mar") ? [maria] : [];
    });
    render(CustomerPicker, { customer: null });
    await fireEvent.input(screen.getByTestId("new-case-customer-search"), { target: { value: "zzz" } });
    await waitFor(() => expect(screen.getByText("No customer matches “zzz”.")).toBeTruthy());
    await fireEvent.input(screen.getByTestId("new-case-customer-search"), { target: { value: "mar" } });
    await fireEvent.click(await screen.findByTestId("customer-match"));
    expect(screen.getByTestId("new-case-customer").textContent).toMatch(/Maria Keller/);
  });

  it("says the engine's refusal rather than that nobody matches", async () => {
    mockIPC(() => {
      throw { code: "forbidden", message: "ada may not work on cases: case work needs the agent or supervisor role" };
    });
    render(CustomerPicker, { customer: null });
    await fireEvent.input(screen.getByTestId("new-case-customer-search"), { target: { value: "tom" } });
    await waitFor(() => expect(screen.getByText(/case work needs the agent or supervisor role/)).toBeTruthy());
    expect(screen.queryByText(/No customer matches/)).toBeNull();
  });
});
