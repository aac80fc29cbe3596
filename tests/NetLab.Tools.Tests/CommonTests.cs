using NetLab.Tools.Common;

namespace NetLab.Tools.Tests;

public class CommonTests
{
    // ping prints (float)(lost * 100.0 / sent) with %g.
    [Theory]
    [InlineData(0, 3, "0")]
    [InlineData(1, 3, "33.3333")]
    [InlineData(2, 3, "66.6667")]
    [InlineData(3, 3, "100")]
    [InlineData(1, 7, "14.2857")]
    [InlineData(1, 400000, "0.00025")]
    [InlineData(1, 4000000, "2.5e-05")]
    public void G_MatchesPrintf(long lost, long sent, string text) =>
        Assert.Equal(text, CFormat.G((float)(lost * 100.0 / sent)));

    // strtoul(s, &end, 0): how much of s is the number, and its value.
    [Theory]
    [InlineData("80", 80UL, 2)]
    [InlineData("0x1F", 31UL, 4)]
    [InlineData("017", 15UL, 3)]
    [InlineData("0x", 0UL, 1)] // "0", then 'x' is left
    [InlineData(" +5x", 5UL, 3)]
    [InlineData("-5", 18446744073709551611UL, 2)]
    [InlineData("99999999999999999999", ulong.MaxValue, 20)]
    [InlineData("abc", 0UL, 0)]
    [InlineData("", 0UL, 0)]
    public void Strtoul_MatchesC(string s, ulong value, int used)
    {
        Assert.Equal(value, CFormat.Strtoul(s, out int n));
        Assert.Equal(used, n);
    }

    [Fact]
    public void Getopt_PermutesBundlesAndTakesAttachedArguments()
    {
        var g = new Getopt("ping", ["10.0.0.1", "-nq", "-c3", "-s", "100", "--", "-x"], "c:s:nq");
        var seen = new List<string>();
        while (g.Next(out var opt, out var arg)) seen.Add($"{opt}{arg}");
        Assert.Equal(["n", "q", "c3", "s100"], seen);
        Assert.Equal(["10.0.0.1", "-x"], g.Operands);
    }

    [Fact]
    public void Getopt_ReportsErrorsLikeGlibc()
    {
        var g = new Getopt("ping", ["-z", "-c"], "c:");
        Assert.True(g.Next(out var opt, out _));
        Assert.Equal(('?', "ping: invalid option -- 'z'"), (opt, g.Error));
        Assert.True(g.Next(out opt, out _));
        Assert.Equal(('?', "ping: option requires an argument -- 'c'"), (opt, g.Error));
        Assert.False(g.Next(out _, out _));
    }
}
