// Run as a child by stray-rejection.test.ts (bun test fails any test with an unhandled
// rejection, so the check needs its own process): a bot, a stray rejection, an answer after it.
import { startBot, startEmulator, tempDir, cleanup, waitFor } from "../helpers/bot.ts";

const emu = await startEmulator();
const dir = tempDir();
const bot = await startBot(emu, {}, dir);
void Promise.reject(new Error("stray-test-rejection"));
emu.dm("UALICE", "still there?");
await waitFor(() => emu.botMessages().find((m) => m.text.includes("still there?")), "an answer after it");
const logged = (await bot.rt.store.logs.tail(1000)).filter((l) => l.msg.includes("stray-test-rejection")).length;
await bot.stop();
await emu.stop();
cleanup(dir);
console.log(`ALIVE logged=${logged}`);
