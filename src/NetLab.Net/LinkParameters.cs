using NetLab.Core.Time;

namespace NetLab.Net;

/// <summary>What a point-to-point cable does to frames: netem-like delay, jitter and loss, a rate, and an MTU for its ends.</summary>
public sealed record LinkParameters
{
    public long RateBitsPerSecond { get; init; } = 1_000_000_000;
    public SimDuration Delay { get; init; } = SimDuration.Zero;
    /// <summary>Uniform in [-jitter, +jitter], as netem without a distribution table; frames keep their order.</summary>
    public SimDuration Jitter { get; init; } = SimDuration.Zero;
    /// <summary>Probability in [0, 1] that a frame is lost.</summary>
    public double Loss { get; init; }
    public int Mtu { get; init; } = 1500;
}
