/**
 * The user has a key that a phishing-resistant requirement accepts: the one
 * fact access and step-ups ask of a user's keys. Today any phishing-resistant key
 * (the `phishing_resistant` copies on the user and each membership, kept in step
 * by OrganizationMembers); with authenticator policies, the keys the
 * organization's policy accepts.
 */
export const hasAcceptedKey = (state: { phishingResistant: boolean }): boolean => state.phishingResistant;
