// Importing customers from a CSV file: the engine's report is shown, with each row it
// left out by line, field and rule; a file it refuses as a whole shows its error.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import CustomerImport from "./CustomerImport.svelte";
import type { ImportReport } from "../../bindings/ImportReport";

afterEach(() => cleanup());

const csv = (text: string) => new File([text], "customers.csv", { type: "text/csv" });

describe("CustomerImport", () => {
  it("sends the file's text and shows what was made, changed and left out", async () => {
    const sent: string[] = [];
    const importCsv = async (text: string): Promise<ImportReport> => {
      sent.push(text);
      return { created: 2, updated: 1, rejected: ["line 4: email: must be an email address like name@example.com"] };
    };
    render(CustomerImport, { importCsv });
    await fireEvent.click(screen.getByTestId("import-run"));
    expect(screen.getByTestId("import-problem").textContent).toBe("Choose a CSV file first.");
    await fireEvent.change(screen.getByTestId("import-file"), { target: { files: [csv("name,email\nAda,ada@example.com\n")] } });
    await fireEvent.click(screen.getByTestId("import-run"));
    await waitFor(() => expect(screen.getByTestId("import-report").textContent).toContain("2 new, 1 changed, 1 left out:"));
    expect(screen.getByTestId("import-rejected").textContent).toContain("line 4: email:");
    expect(sent).toEqual(["name,email\nAda,ada@example.com\n"]);
  });

  it("shows the engine's refusal of the whole file", async () => {
    const importCsv = async (): Promise<ImportReport> => {
      throw new Error("csv: unknown column 'shoe_size'");
    };
    render(CustomerImport, { importCsv });
    await fireEvent.change(screen.getByTestId("import-file"), { target: { files: [csv("name,shoe_size\nX,42\n")] } });
    await fireEvent.click(screen.getByTestId("import-run"));
    await waitFor(() => expect(screen.getByTestId("import-problem").textContent).toContain("unknown column 'shoe_size'"));
  });
});
