namespace NetLab.Drill.Running;

/// <summary>How a script run ended.</summary>
public enum DrillStatus
{
    Passed,
    /// <summary>NetLab did something other than the script says (a packet, a result, a timing, an assertion).</summary>
    Failed,
    /// <summary>The script cannot be run: a syntax error, an unreadable file, an option NetLab does not know.</summary>
    InvalidScript,
}

/// <summary>The result of one run: the status, and for a failure the script line and packetdrill-style message.</summary>
public sealed record DrillOutcome(DrillStatus Status, int Line, string Message, IReadOnlyList<string> Warnings)
{
    public bool Passed => Status == DrillStatus.Passed;

    /// <summary>The first line of the message (the table's "first mismatch" column).</summary>
    public string Summary => Message.Split('\n')[0];
}
