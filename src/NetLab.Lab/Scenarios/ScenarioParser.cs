using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace NetLab.Lab.Scenarios;

/// <summary>Reads scenario files. Never throws on bad input: every problem comes back as a <see cref="ScenarioError"/>.</summary>
public static class ScenarioParser
{
    // The schema nests six levels (hosts.a.interfaces.eth0.address[0]); anything far deeper is not a scenario.
    private const int MaxDepth = 64;

    /// <param name="fileName">Named in every error, and the scenario's default name (without its extension).</param>
    public static ScenarioParseResult Parse(string yamlText, string fileName)
    {
        var errors = new List<ScenarioError>();
        var root = Load(yamlText, fileName, errors);
        if (root is null) return ScenarioParseResult.Failed(errors);
        var reader = new ScenarioReader(fileName);
        var scenario = reader.Read(root, Path.GetFileNameWithoutExtension(fileName));
        return scenario is null ? ScenarioParseResult.Failed(reader.Errors) : ScenarioParseResult.Ok(scenario);
    }

    /// <summary>Reads and parses <paramref name="path"/>; errors name the path as given. I/O failures throw.</summary>
    public static ScenarioParseResult ParseFile(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>The document's root node, or null after adding the syntax error.</summary>
    private static YamlNode? Load(string text, string file, List<ScenarioError> errors)
    {
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        var stream = new YamlStream();
        try
        {
            stream.Load(new GuardedParser(new Parser(scanner)));
        }
        catch (YamlException e)
        {
            errors.Add(new(Locate(file, e.Start), "", $"invalid YAML: {e.Message}"));
            return null;
        }
        // YamlDotNet throws these without a position on some malformed input; the scanner's position is where it
        // gave up. Its scanner throws InvalidOperationException in one place only (Scanner.ScanPlainScalar).
        catch (InvalidOperationException)
        {
            errors.Add(new(Locate(file, scanner.CurrentPosition), "", "invalid YAML: a value inside [...] or {...} continues on a less indented line (a missing ']' or '}'?)"));
            return null;
        }
        catch (ArgumentException)
        {
            errors.Add(new(Locate(file, scanner.CurrentPosition), "", "invalid YAML: malformed input just before this point"));
            return null;
        }
        switch (stream.Documents.Count)
        {
            case 0:
                errors.Add(new(new SourceLocation(file, 1, 1), "", "the file is empty; a scenario is a mapping with hosts, switches, links, timeline, ..."));
                return null;
            case > 1:
                errors.Add(new(Locate(file, stream.Documents[1].RootNode.Start), "", "a scenario file holds one YAML document"));
                return null;
            default:
                return stream.Documents[0].RootNode;
        }
    }

    private static SourceLocation Locate(string file, Mark mark) =>
        new(file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    /// <summary>
    /// Checks the event stream before YamlStream builds nodes from it, refusing what it would choke on with no catch
    /// to help: it builds recursively, so "[[[[..." a few thousand deep overflows the stack; it hashes collection keys
    /// recursively, so a key that contains itself ("? &amp;a [ *a ]") overflows it too, and one made of nested aliases
    /// takes exponential time; it throws a bare ArgumentException on a key without a value. Also places an undefined
    /// alias, which YamlStream reports without a position.
    /// </summary>
    private sealed class GuardedParser(IParser inner) : IParser
    {
        private sealed class OpenCollection(bool isMapping, AnchorName anchor)
        {
            public bool IsMapping { get; } = isMapping;
            public AnchorName Anchor { get; } = anchor;
            public bool AtKey { get; set; } = isMapping;   // a mapping's nodes alternate key, value
            public Mark KeyStart { get; set; }
        }

        private readonly HashSet<AnchorName> _anchors = [];
        private readonly Stack<OpenCollection> _open = [];

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (!inner.MoveNext() || inner.Current is not { } e) return false;
            if (e is NodeEvent or AnchorAlias && _open.TryPeek(out var parent) && parent.IsMapping)
            {
                if (parent.AtKey && e is not Scalar) throw Refuse(e, "a mapping key must be a plain value, not a collection or an alias");
                if (parent.AtKey) parent.KeyStart = e.Start;
                parent.AtKey = !parent.AtKey;
            }
            switch (e)
            {
                case AnchorAlias alias when !_anchors.Contains(alias.Value):
                    throw Refuse(e, $"alias *{alias.Value} refers to no anchor defined before it");
                case AnchorAlias alias when _open.Any(c => c.Anchor == alias.Value):
                    throw Refuse(e, $"alias *{alias.Value} is inside the collection it names; recursive structures are not supported");
                case MappingStart or SequenceStart when _open.Count == MaxDepth:
                    throw Refuse(e, $"collections nested deeper than {MaxDepth} levels");
                case MappingStart m:
                    _open.Push(new(isMapping: true, m.Anchor));
                    break;
                case SequenceStart q:
                    _open.Push(new(isMapping: false, q.Anchor));
                    break;
                // YamlDotNet's parser ends "- : " after the key, and YamlStream would throw a bare ArgumentException.
                case MappingEnd when _open.Peek() is { AtKey: false } unfinished:
                    throw new YamlException(unfinished.KeyStart, unfinished.KeyStart, "a mapping key without a value");
                case MappingEnd or SequenceEnd:
                    _open.Pop();
                    break;
            }
            if (e is NodeEvent { Anchor.IsEmpty: false } node) _anchors.Add(node.Anchor);
            return true;
        }

        private static YamlException Refuse(ParsingEvent e, string message) => new(e.Start, e.End, message);
    }
}
