"""The SQL of the send limits (`limits.py`): the shared token bucket and the per-day counts per channel."""

from __future__ import annotations

from sqlalchemy import text

ENSURE_BUCKET = text(
    """
    INSERT INTO rate_buckets (name, tokens, capacity, refill_per_second, last_taken, updated_at)
    VALUES (:name, CAST(:capacity AS double precision), CAST(:capacity AS double precision),
            CAST(:refill AS double precision), 0, clock_timestamp())
    ON CONFLICT (name) DO UPDATE SET capacity = excluded.capacity, refill_per_second = excluded.refill_per_second,
                                     tokens = LEAST(rate_buckets.tokens, excluded.capacity)
    """
)

# The row is locked first so that the time read next is taken after any wait for another replica:
# one statement then refills by elapsed time and takes what it can, every SET expression seeing the
# same row and the same instant. The database's clock is the one clock all replicas share, which is
# why the bucket does not use the service clock.
LOCK = text("SELECT 1 FROM rate_buckets WHERE name = :name FOR UPDATE")
TAKE = text(
    """
    WITH now AS (SELECT clock_timestamp() AS at)
    UPDATE rate_buckets AS b SET
        last_taken = LEAST(CAST(:wanted AS integer), floor(LEAST(b.capacity, b.tokens + b.refill_per_second
                           * GREATEST(0, EXTRACT(EPOCH FROM (now.at - b.updated_at)))))),
        tokens = LEAST(b.capacity, b.tokens + b.refill_per_second
                       * GREATEST(0, EXTRACT(EPOCH FROM (now.at - b.updated_at))))
                 - LEAST(CAST(:wanted AS integer), floor(LEAST(b.capacity, b.tokens + b.refill_per_second
                                   * GREATEST(0, EXTRACT(EPOCH FROM (now.at - b.updated_at)))))),
        updated_at = GREATEST(b.updated_at, now.at)
    FROM now
    WHERE b.name = :name
    RETURNING b.last_taken, b.tokens, b.refill_per_second
    """
)

# Every channel's count for the day in one statement; rows are taken in channel order, so two replicas
# never lock the day's rows in opposite orders.
DAILY = text(
    """
    WITH w AS (
        SELECT * FROM unnest(CAST(:channels AS text[]), CAST(:wanted AS integer[]), CAST(:limits AS integer[]))
                      AS w(channel, wanted, lim)
    )
    INSERT INTO daily_sends AS d (day, channel, sent, last_granted)
    SELECT CAST(:day AS date), w.channel, LEAST(w.wanted, w.lim), LEAST(w.wanted, w.lim) FROM w ORDER BY w.channel
    ON CONFLICT (day, channel) DO UPDATE SET
        last_granted = (SELECT GREATEST(0, LEAST(w.wanted, w.lim - d.sent)) FROM w WHERE w.channel = excluded.channel),
        sent = d.sent + (SELECT GREATEST(0, LEAST(w.wanted, w.lim - d.sent)) FROM w WHERE w.channel = excluded.channel)
    RETURNING d.channel, d.last_granted
    """
)


# Channels whose count for the day has reached its limit: their due messages are not claimed until the
# next day, rather than claimed and deferred a batch at a time (1,500,000 row updates on a day 2,000,000
# are due) and, with the rate limit on, each batch taking tokens that then went unused.
FULL = text(
    """
    SELECT d.channel FROM daily_sends AS d
    JOIN unnest(CAST(:channels AS text[]), CAST(:limits AS integer[])) AS w(channel, lim) ON w.channel = d.channel
    WHERE d.day = :day AND d.sent >= w.lim
    """
)


# One channel's row at a time, in channel order like `DAILY`, so a refund and a grant never deadlock.
REFUND = text(
    "UPDATE daily_sends SET sent = GREATEST(0, sent - CAST(:count AS integer)) WHERE day = :day AND channel = :channel"
)
