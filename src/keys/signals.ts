declare module '../audit/audit-log' {
  interface AuditActions {
    /**
     * A stored secret did not open for its row and purpose (moved from another
     * row, altered, or under a key this instance is not given): refused, never
     * used. The reason names the purpose, why and the key id; never the value.
     */
    CIPHERTEXT_REFUSED: 'service';
  }
}

export {};
