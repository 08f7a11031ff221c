-- The operator console's Numbers page: the numbers a provider reported invalid, newest first,
-- read from an index of those alone (few, and written only when a number changes status) so the
-- page costs the same however many numbers there are. The Messages page's searches need no new
-- index: they read each key's own list indexes (0015), one key at a time (ConsoleStore).
CREATE INDEX IF NOT EXISTS phone_numbers_inactive ON phone_numbers (inactivated_at DESC) WHERE status = 'inactive';
