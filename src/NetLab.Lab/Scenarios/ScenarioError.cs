using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace NetLab.Lab.Scenarios;

/// <summary>Where a node starts in a scenario file; line and column count from 1, as editors and compilers print them.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column);

/// <summary>
/// One problem in a scenario file, printed as <c>file:line:col: path: message</c>
/// (<c>tour.yaml:4:8: hosts.a.interfaces.eth0.address: prefix length /33 is out of range 0-32</c>).
/// <see cref="Path"/> is empty for YAML syntax errors, which belong to no field.
/// </summary>
public sealed record ScenarioError(string File, int Line, int Column, string Path, string Message)
{
    public ScenarioError(SourceLocation at, string path, string message)
        : this(at.File, at.Line, at.Column, path, message) { }

    public override string ToString() =>
        Path.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Path}: {Message}";
}

/// <summary>Either a <see cref="Scenarios.Scenario"/> or every error found in the file, never both.</summary>
public sealed class ScenarioParseResult
{
    private ScenarioParseResult(Scenario? scenario, ImmutableArray<ScenarioError> errors)
    {
        Scenario = scenario;
        Errors = errors;
    }

    public Scenario? Scenario { get; }

    /// <summary>In file order (line, then column); empty when <see cref="Success"/>.</summary>
    public ImmutableArray<ScenarioError> Errors { get; }

    [MemberNotNullWhen(true, nameof(Scenario))]
    public bool Success => Scenario is not null;

    internal static ScenarioParseResult Ok(Scenario scenario) => new(scenario, []);

    internal static ScenarioParseResult Failed(IEnumerable<ScenarioError> errors)
    {
        // OrderBy is stable: errors at the same node keep the order they were found in.
        var sorted = errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToImmutableArray();
        if (sorted.IsEmpty) throw new ArgumentException("a failed parse needs at least one error", nameof(errors));
        return new(null, sorted);
    }
}
