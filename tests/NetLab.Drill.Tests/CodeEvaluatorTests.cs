using NetLab.Drill.Running;

namespace NetLab.Drill.Tests;

public class CodeEvaluatorTests
{
    private static CodeEvaluator WithCwnd(long cwnd) => new() { Lookup = n => n == "tcpi_snd_cwnd" ? cwnd : null };

    [Theory]
    [InlineData("assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd", null)]
    [InlineData("assert tcpi_snd_cwnd == 11, tcpi_snd_cwnd", "AssertionError: 10")]
    [InlineData("assert tcpi_snd_cwnd == 11, 'cwnd=%d' % tcpi_snd_cwnd", "AssertionError: cwnd=10")]
    [InlineData("assert 9 <= tcpi_snd_cwnd <= 11", null)]
    [InlineData("assert 11 <= tcpi_snd_cwnd <= 12", "AssertionError")]
    [InlineData("assert (tcpi_snd_cwnd & 2) != 0 and not tcpi_snd_cwnd > 10", null)]
    [InlineData("assert tcpi_snd_cwnd * 3 // 4 - 1 == 6 or False", null)]
    [InlineData("assert min(tcpi_snd_cwnd, 3) == 3; assert max(1, 2) == 3", "AssertionError")]
    [InlineData("X = 0x7fffffff\nassert X == 2147483647", null)]
    [InlineData("# comment\nassert tcpi_snd_cwnd == 10 \\\n  , 'x'", null)]
    public void Assertions(string code, string? failure)
    {
        Assert.Equal(failure, WithCwnd(10).Run(code));
    }

    [Theory]
    [InlineData("assert tcpi_busy_time == 0", "NameError: name 'tcpi_busy_time' is not defined")]
    [InlineData("assert 1 / 0", "ZeroDivisionError")]
    [InlineData("assert (1", "expected ')'")]
    [InlineData("assert 'x", "unterminated string")]
    public void Errors_AreReportedNotThrown(string code, string fragment)
    {
        Assert.Contains(fragment, WithCwnd(10).Run(code));
    }

    [Fact]
    public void Variables_PersistAcrossBlocks()
    {
        var e = WithCwnd(10);
        Assert.Null(e.Run("TCP_INFINITE_SSTHRESH = 0x7fffffff"));
        Assert.Null(e.Run("assert TCP_INFINITE_SSTHRESH > tcpi_snd_cwnd"));
    }
}
