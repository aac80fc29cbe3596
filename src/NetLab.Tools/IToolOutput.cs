using NetLab.Core.Time;

namespace NetLab.Tools;

/// <summary>
/// A tool's stdout and stderr. Each call is one complete line (without its newline), made at the
/// virtual instant the real tool would have finished printing it.
/// </summary>
public interface IToolOutput
{
    void WriteLine(string line);
    void WriteError(string line);
}

public enum OutputStream { Stdout, Stderr }

/// <summary>One line a tool printed, with the virtual time it appeared.</summary>
public readonly record struct OutputLine(SimTime At, OutputStream Stream, string Text)
{
    public override string ToString() => $"{At} {(Stream == OutputStream.Stderr ? "2>" : "1>")} {Text}";
}

/// <summary>Collects what tools print (tests, the scenario runner): both streams in order, with times.</summary>
public sealed class CapturingOutput(Scheduler clock) : IToolOutput
{
    private readonly List<OutputLine> _all = [];

    /// <summary>Every line of both streams, in the order printed.</summary>
    public IReadOnlyList<OutputLine> All => _all;

    public IReadOnlyList<string> Lines => _all.Where(l => l.Stream == OutputStream.Stdout).Select(l => l.Text).ToList();
    public IReadOnlyList<string> Errors => _all.Where(l => l.Stream == OutputStream.Stderr).Select(l => l.Text).ToList();

    /// <summary>stdout as a terminal would show it: lines joined by newlines, with a final newline.</summary>
    public string Text => string.Concat(Lines.Select(l => l + "\n"));

    public void WriteLine(string line) => _all.Add(new OutputLine(clock.Now, OutputStream.Stdout, line));
    public void WriteError(string line) => _all.Add(new OutputLine(clock.Now, OutputStream.Stderr, line));
}
