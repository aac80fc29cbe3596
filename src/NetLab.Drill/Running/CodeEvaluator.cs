using System.Globalization;
using System.Text;

namespace NetLab.Drill.Running;

/// <summary>
/// The Python subset packetdrill's <c>%{ }%</c> blocks use: statements <c>assert expr[, message]</c> and
/// <c>NAME = expr</c>, separated by newlines or ';' (with '\' continuations and '#' comments), over integers and
/// strings: <c>or and not</c>, chained comparisons (<c>1 &lt;= x &lt;= 2</c>), <c>| ^ &amp; &lt;&lt; &gt;&gt; + - * / // %</c>,
/// unary <c>- + ~</c>, <c>min()</c>/<c>max()</c>/<c>abs()</c>, and <c>'fmt %d' % value</c>. Names come from the block's
/// variables (kept across blocks, as packetdrill's Python keeps them) and then from <see cref="Lookup"/> (tcpi_*).
/// </summary>
internal sealed class CodeEvaluator
{
    private readonly Dictionary<string, object> _vars = new(StringComparer.Ordinal);

    /// <summary>Resolves names not assigned by the script (tcpi_* fields, TCP_CA_* constants); null when unknown.</summary>
    public Func<string, object?> Lookup { get; set; } = _ => null;

    /// <summary>Runs a block; returns null when every assertion holds, or the first failure (or error) as text.</summary>
    public string? Run(string code)
    {
        foreach (var (stmt, line) in SplitStatements(code))
        {
            string? failure;
            try { failure = RunStatement(new Lexer(stmt)); }
            catch (EvalException e) { return $"line {line} of the block: {e.Message}"; }
            if (failure is not null) return failure;
        }
        return null;
    }

    private sealed class EvalException(string message) : Exception(message);

    private string? RunStatement(Lexer lx)
    {
        if (lx.Peek.Kind == TokKind.Name && lx.Peek.Text == "assert")
        {
            lx.Next();
            var value = Expr(lx);
            object? message = null;
            if (lx.TryOp(",")) message = Expr(lx);
            lx.ExpectEnd();
            if (Truthy(value)) return null;
            return message is null ? "AssertionError" : $"AssertionError: {Str(message)}";
        }
        if (lx.Peek.Kind == TokKind.Name && lx.PeekAt(1) is { Kind: TokKind.Op, Text: "=" })
        {
            string name = lx.Next().Text;
            lx.Next();
            _vars[name] = Expr(lx);
            lx.ExpectEnd();
            return null;
        }
        Expr(lx); // a bare expression statement
        lx.ExpectEnd();
        return null;
    }

    // Python's precedence, lowest first: or, and, not, comparisons, |, ^, &, shifts, + -, * / // %, unary.
    private object Expr(Lexer lx)
    {
        var left = AndExpr(lx);
        while (lx.TryName("or")) { var right = AndExpr(lx); left = Truthy(left) ? left : right; }
        return left;
    }

    private object AndExpr(Lexer lx)
    {
        var left = NotExpr(lx);
        while (lx.TryName("and")) { var right = NotExpr(lx); left = !Truthy(left) ? left : right; }
        return left;
    }

    private object NotExpr(Lexer lx) => lx.TryName("not") ? !Truthy(NotExpr(lx)) : Comparison(lx);

    private object Comparison(Lexer lx)
    {
        var left = BinaryLevel(lx, 0);
        object result = true;
        bool any = false;
        while (lx.Peek is { Kind: TokKind.Op, Text: "==" or "!=" or "<" or "<=" or ">" or ">=" } op)
        {
            lx.Next();
            var right = BinaryLevel(lx, 0);
            bool holds = Compare(op.Text, left, right);
            if (!holds) result = false;
            any = true;
            left = right;
        }
        return any ? result : left;
    }

    private static readonly string[][] Levels = [["|"], ["^"], ["&"], ["<<", ">>"], ["+", "-"], ["*", "/", "//", "%"]];

    private object BinaryLevel(Lexer lx, int level)
    {
        if (level == Levels.Length) return Unary(lx);
        var left = BinaryLevel(lx, level + 1);
        while (lx.Peek.Kind == TokKind.Op && Array.IndexOf(Levels[level], lx.Peek.Text) >= 0)
        {
            string op = lx.Next().Text;
            left = Binary(op, left, BinaryLevel(lx, level + 1));
        }
        return left;
    }

    private object Unary(Lexer lx)
    {
        if (lx.TryOp("-")) return -Int(Unary(lx));
        if (lx.TryOp("+")) return Int(Unary(lx));
        if (lx.TryOp("~")) return ~Int(Unary(lx));
        return Primary(lx);
    }

    private object Primary(Lexer lx)
    {
        var t = lx.Next();
        switch (t.Kind)
        {
            case TokKind.Int: return t.Value;
            case TokKind.Str: return t.Text;
            case TokKind.Op when t.Text == "(":
            {
                var v = Expr(lx);
                if (!lx.TryOp(")")) throw new EvalException("expected ')'");
                return v;
            }
            case TokKind.Name:
                if (lx.TryOp("(")) return Call(t.Text, lx);
                if (t.Text == "True") return true;
                if (t.Text == "False") return false;
                if (_vars.TryGetValue(t.Text, out var v2)) return v2;
                return Lookup(t.Text) ?? throw new EvalException($"NameError: name '{t.Text}' is not defined");
            case TokKind.End: throw new EvalException("unexpected end of statement");
            default: throw new EvalException($"unexpected '{t.Text}'");
        }
    }

    private object Call(string name, Lexer lx)
    {
        var args = new List<object>();
        if (!lx.TryOp(")"))
        {
            do args.Add(Expr(lx)); while (lx.TryOp(","));
            if (!lx.TryOp(")")) throw new EvalException($"expected ')' after the arguments of {name}()");
        }
        return name switch
        {
            "min" when args.Count > 0 => args.Select(Int).Min(),
            "max" when args.Count > 0 => args.Select(Int).Max(),
            "abs" when args.Count == 1 => Math.Abs(Int(args[0])),
            "int" when args.Count == 1 => Int(args[0]),
            "str" when args.Count == 1 => Str(args[0]),
            _ => throw new EvalException($"NameError: function '{name}' is not supported"),
        };
    }

    private static object Binary(string op, object a, object b)
    {
        if (op == "%" && a is string fmt) return Format(fmt, b);
        if (op == "+" && a is string sa && b is string sb) return sa + sb;
        long x = Int(a), y = Int(b);
        return op switch
        {
            "|" => x | y,
            "^" => x ^ y,
            "&" => x & y,
            "<<" => x << (int)y,
            ">>" => x >> (int)y,
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            "/" or "//" => y == 0 ? throw new EvalException("ZeroDivisionError") : FloorDiv(x, y),
            "%" => y == 0 ? throw new EvalException("ZeroDivisionError") : x - FloorDiv(x, y) * y,
            _ => throw new EvalException($"unknown operator {op}"),
        };
    }

    /// <summary>Python's // rounds toward negative infinity. (Python 3's / would give a float; the scripts compare integers.)</summary>
    private static long FloorDiv(long x, long y)
    {
        long q = x / y;
        return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
    }

    private static bool Compare(string op, object a, object b)
    {
        if (a is string || b is string)
        {
            int c = string.CompareOrdinal(Str(a), Str(b));
            return op switch { "==" => c == 0, "!=" => c != 0, "<" => c < 0, "<=" => c <= 0, ">" => c > 0, _ => c >= 0 };
        }
        long x = Int(a), y = Int(b);
        return op switch { "==" => x == y, "!=" => x != y, "<" => x < y, "<=" => x <= y, ">" => x > y, _ => x >= y };
    }

    /// <summary>printf-style <c>%d %u %x %s %%</c>; the right side is one value or a tuple-less single value.</summary>
    private static string Format(string fmt, object arg)
    {
        var sb = new StringBuilder();
        bool used = false;
        for (int i = 0; i < fmt.Length; i++)
        {
            if (fmt[i] != '%' || i + 1 == fmt.Length) { sb.Append(fmt[i]); continue; }
            char k = fmt[++i];
            if (k == '%') { sb.Append('%'); continue; }
            if (used) throw new EvalException("TypeError: not enough arguments for format string");
            used = true;
            sb.Append(k switch
            {
                'd' or 'i' or 'u' => Int(arg).ToString(CultureInfo.InvariantCulture),
                'x' => Int(arg).ToString("x", CultureInfo.InvariantCulture),
                's' or 'r' => Str(arg),
                _ => throw new EvalException($"unsupported format %{k}"),
            });
        }
        return sb.ToString();
    }

    private static long Int(object v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new EvalException($"TypeError: '{Str(v)}' is not an integer"),
    };

    private static bool Truthy(object v) => v switch
    {
        bool b => b,
        long l => l != 0,
        string s => s.Length > 0,
        _ => true,
    };

    private static string Str(object v) => v switch
    {
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <summary>Splits on newlines and ';' outside brackets and strings, joining '\'-continued lines; drops '#' comments.</summary>
    private static IEnumerable<(string Text, int Line)> SplitStatements(string code)
    {
        var sb = new StringBuilder();
        int depth = 0, line = 1, startLine = 1;
        char quote = '\0';
        for (int i = 0; i < code.Length; i++)
        {
            char c = code[i];
            if (quote != '\0')
            {
                sb.Append(c);
                if (c == quote) quote = '\0';
                continue;
            }
            if (c == '#') { while (i + 1 < code.Length && code[i + 1] != '\n') i++; continue; }
            if (c is '\'' or '"') { quote = c; sb.Append(c); continue; }
            if (c == '\\' && i + 1 < code.Length && code[i + 1] is '\n' or '\r')
            {
                while (i + 1 < code.Length && code[i + 1] != '\n') i++;
                i++;
                line++;
                sb.Append(' ');
                continue;
            }
            if (c is '(' or '[') depth++;
            if (c is ')' or ']') depth--;
            if ((c == '\n' && depth <= 0) || c == ';')
            {
                if (sb.ToString().Trim() is { Length: > 0 } s) yield return (s, startLine);
                sb.Clear();
                if (c == '\n') line++;
                startLine = line;
                continue;
            }
            if (c == '\n') line++;
            sb.Append(c);
        }
        if (sb.ToString().Trim() is { Length: > 0 } last) yield return (last, startLine);
    }

    private enum TokKind { Int, Str, Name, Op, End }

    private readonly record struct Token(TokKind Kind, string Text, long Value = 0);

    private sealed class Lexer
    {
        private readonly List<Token> _tokens = [];
        private int _i;

        public Lexer(string s)
        {
            int i = 0;
            while (i < s.Length)
            {
                char c = s[i];
                if (char.IsWhiteSpace(c)) { i++; continue; }
                if (char.IsAsciiDigit(c))
                {
                    int start = i;
                    if (c == '0' && i + 1 < s.Length && s[i + 1] is 'x' or 'X')
                    {
                        i += 2;
                        while (i < s.Length && char.IsAsciiHexDigit(s[i])) i++;
                        if (!long.TryParse(s.AsSpan(start + 2, i - start - 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long h))
                            throw new EvalException($"bad hex number '{s[start..i]}'");
                        _tokens.Add(new(TokKind.Int, s[start..i], h));
                        continue;
                    }
                    while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
                    if (!long.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out long d))
                        throw new EvalException($"number too large '{s[start..i]}'");
                    _tokens.Add(new(TokKind.Int, s[start..i], d));
                    continue;
                }
                if (char.IsAsciiLetter(c) || c == '_')
                {
                    int start = i;
                    while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) i++;
                    _tokens.Add(new(TokKind.Name, s[start..i]));
                    continue;
                }
                if (c is '\'' or '"')
                {
                    int end = s.IndexOf(c, i + 1);
                    if (end < 0) throw new EvalException("unterminated string");
                    _tokens.Add(new(TokKind.Str, s[(i + 1)..end]));
                    i = end + 1;
                    continue;
                }
                string two = i + 1 < s.Length ? s.Substring(i, 2) : "";
                if (two is "==" or "!=" or "<=" or ">=" or "<<" or ">>" or "//") { _tokens.Add(new(TokKind.Op, two)); i += 2; continue; }
                if ("=<>+-*/%|&^~(),".IndexOf(c) >= 0) { _tokens.Add(new(TokKind.Op, c.ToString())); i++; continue; }
                throw new EvalException($"unexpected character '{c}'");
            }
        }

        public Token Peek => PeekAt(0);
        public Token PeekAt(int k) => _i + k < _tokens.Count ? _tokens[_i + k] : new Token(TokKind.End, "end of statement");
        public Token Next() { var t = Peek; if (_i < _tokens.Count) _i++; return t; }

        public bool TryOp(string op)
        {
            if (Peek.Kind != TokKind.Op || Peek.Text != op) return false;
            _i++;
            return true;
        }

        public bool TryName(string name)
        {
            if (Peek.Kind != TokKind.Name || Peek.Text != name) return false;
            _i++;
            return true;
        }

        public void ExpectEnd()
        {
            if (Peek.Kind != TokKind.End) throw new EvalException($"unexpected '{Peek.Text}'");
        }
    }
}
