using NetLab.Core.Time;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>Virtual-time literals for segment scripts: <c>h.ExpectSent(at: 1000.Ms(), ...)</c>, <c>3.Sec()</c>.</summary>
public static class TimeLiterals
{
    public static SimDuration Us(this int microseconds) => SimDuration.FromMicroseconds(microseconds);
    public static SimDuration Ms(this int milliseconds) => SimDuration.FromMilliseconds(milliseconds);
    public static SimDuration Ms(this long milliseconds) => SimDuration.FromMilliseconds(milliseconds);
    public static SimDuration Ms(this double milliseconds) => SimDuration.FromMilliseconds(milliseconds);
    public static SimDuration Sec(this int seconds) => SimDuration.FromSeconds(seconds);
}
