using NetLab.Core.Time;

namespace NetLab.Net;

/// <summary>
/// What a point-to-point cable does to frames: netem-like delay, jitter, loss, reordering, duplication and corruption, a
/// rate, and an MTU for its ends. Every random choice comes from the link direction's seeded stream, drawn only for the
/// impairments that are enabled (so enabling one does not change the others' draws on links without it).
/// </summary>
public sealed record LinkParameters
{
    public long RateBitsPerSecond { get; init; } = 1_000_000_000;
    public SimDuration Delay { get; init; } = SimDuration.Zero;
    /// <summary>Uniform in [-jitter, +jitter], as netem without a distribution table; frames keep their order.</summary>
    public SimDuration Jitter { get; init; } = SimDuration.Zero;
    /// <summary>Probability in [0, 1] that a frame is lost.</summary>
    public double Loss { get; init; }
    /// <summary>
    /// Probability in [0, 1] that a frame is held back by an extra delay drawn uniformly from (0, <see cref="ReorderDelay"/>]
    /// and may be overtaken by later frames (netem "delay ... reorder"-like; every other frame keeps its order).
    /// </summary>
    public double Reorder { get; init; }
    /// <summary>The largest extra delay of a reordered frame.</summary>
    public SimDuration ReorderDelay { get; init; } = SimDuration.FromMilliseconds(1);
    /// <summary>Probability in [0, 1] that a frame is delivered twice (netem duplicate); the copy arrives with it.</summary>
    public double Duplicate { get; init; }
    /// <summary>Probability in [0, 1] that one random bit of a frame is flipped (netem corrupt); checksums catch it.</summary>
    public double Corrupt { get; init; }
    public int Mtu { get; init; } = 1500;
}
