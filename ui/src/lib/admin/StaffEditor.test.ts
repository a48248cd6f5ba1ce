// Creating a user in the configuration, with Tauri's IPC mocked: the engine's refusal
// is shown beside the roles, and once created the routing profile can be set.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import StaffEditor from "./StaffEditor.svelte";
import type { Command } from "../../bindings/Command";
import type { StaffMember } from "../../bindings/StaffMember";

afterEach(() => cleanup());

const ada = { user: { id: "ada", name: "Ada Admin", roles: ["admin"], teams: [], email: null, phone: null }, profile: null } as StaffMember;

describe("StaffEditor", () => {
  it("creates a user, then offers her routing profile", async () => {
    const sent: Command[] = [];
    let staff: StaffMember[] = [ada];
    const save = async (c: Command) => {
      sent.push(c);
      if (c.type === "create_user" && c.roles.length === 0) throw new Error("roles: a user needs at least one role");
      if (c.type === "create_user") staff = [...staff, { user: { ...c, email: null, phone: null }, profile: null }];
      return { events: [], created_id: null, reference: null, warnings: [] };
    };
    const view = render(StaffEditor, { staff, queues: [], skills: ["spanish"], save });
    await fireEvent.click(screen.getByTestId("user-new"));
    await fireEvent.input(screen.getByTestId("user-id"), { target: { value: "dana" } });
    await fireEvent.input(screen.getByTestId("user-name"), { target: { value: "Dana Agent" } });
    await fireEvent.click(screen.getByTestId("user-save"));
    await waitFor(() => expect(screen.getByTestId("user-done").textContent).toContain("Dana Agent"));
    await view.rerender({ staff, queues: [], skills: ["spanish"], save });
    expect(sent.map((c) => c.type)).toEqual(["create_user", "set_user_contact"]);
    await waitFor(() => expect(screen.getByTestId("profile-skills")).toBeTruthy());
  });
});
