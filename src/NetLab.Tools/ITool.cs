namespace NetLab.Tools;

/// <summary>A command that runs on a host, like a Linux program: arguments in, lines out, an exit code back.</summary>
public interface ITool
{
    /// <summary>The command name (argv[0]).</summary>
    string Name { get; }

    /// <summary>Runs with <paramref name="args"/> (argv[1..]) and returns the exit status.</summary>
    Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args);
}
