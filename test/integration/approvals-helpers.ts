// Shared by the approval integration tests: finding cards and thread replies in the emulator.
import { existsSync, readFileSync } from "node:fs";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import type { EmuMessage } from "../../src/emulator/types.ts";
import { waitFor } from "../helpers/bot.ts";

export const APPROVER = "UAPPROVER1";
export const APPROVER2 = "UAPPROVER2";
export const STRANGER = "USTRANGER";

/** The bot message whose blocks carry an approval id (the card), if any. */
export function findCard(emu: SlackEmulator, channel?: string): { card: EmuMessage; id: string } | undefined {
  for (const m of emu.botMessages(channel)) {
    const id = /"value":"(ap_[0-9a-f]+)"/.exec(JSON.stringify(m.blocks ?? []))?.[1];
    if (id) return { card: m, id };
  }
  return undefined;
}

export const waitCard = (emu: SlackEmulator, channel?: string) => waitFor(() => findCard(emu, channel), "an approval card");

/** Bot messages in the card's thread. */
export const threadReplies = (emu: SlackEmulator, channel: string, ts: string) =>
  emu.botMessages(channel).filter((m) => m.thread_ts === ts && m.ts !== ts);

export const hasButtons = (m: EmuMessage | undefined) => JSON.stringify(m?.blocks ?? []).includes("approval_approve");

/** The card as it is now (after chat.update). */
export const currentCard = (emu: SlackEmulator, channel: string, ts: string) =>
  emu.messages(channel).find((m) => m.ts === ts && !m.ephemeral);

export const calls = (emu: SlackEmulator, method: string) => emu.calls.filter((c) => c.method === method);

export const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0);

export { unescapeSlack } from "../../src/core/text.ts";
