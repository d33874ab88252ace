// Durations for people: "45 s", "11 min", "2.5 h" (health's status line, the heartbeat, the status page).
export function formatDuration(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
