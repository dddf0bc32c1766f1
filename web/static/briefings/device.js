// A stable id for this browser, kept across page loads under `key`: the server tells a rejoin
// of the same device by it (it is neither secret nor authenticated, THREAT_MODEL.md).

export function deviceId(key) {
  try {
    let id = localStorage.getItem(key);
    if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
      const bytes = crypto.getRandomValues(new Uint8Array(12));
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(key, id);
    }
    return id;
  } catch {
    return ""; // storage refused: the server treats us as an unknown device
  }
}
