using System.Globalization;

namespace FaceIndex.Evaluation;

/// <summary>One verification pair: two image files, whether they show the same person, and its fold.</summary>
/// <param name="PathA">First image.</param>
/// <param name="PathB">Second image.</param>
/// <param name="Same">True for a same-person pair.</param>
/// <param name="Fold">Fold index in [0, fold count).</param>
public sealed record VerificationPair(string PathA, string PathB, bool Same, int Fold);

/// <summary>A parsed pair list and the number of folds it is split into.</summary>
public sealed record PairSet(IReadOnlyList<VerificationPair> Pairs, int Folds, string Format);

/// <summary>
/// Reads verification pair lists in two formats.
/// <list type="bullet">
/// <item>LFW's <c>pairs.txt</c>: a first line <c>folds⇥n</c> (View 2) or <c>n</c> (View 1, one set), then per fold
/// <c>n</c> same-person lines <c>Name⇥i⇥j</c> and <c>n</c> different-person lines <c>Name1⇥i⇥Name2⇥j</c>;
/// image numbers are 1-based, files are <c>Name/Name_%04d.jpg</c> under the image folder. The folds are the file's.</item>
/// <item>deepface's <c>master.csv</c>: a header <c>file_x,file_y,Decision</c>, then one pair per line with paths
/// relative to the image folder and Decision Yes/No. The file has no folds: pairs are dealt to the folds
/// round-robin within each class, in file order, so every fold holds both classes.</item>
/// </list>
/// </summary>
public static class PairList
{
    /// <summary>Folds of the LFW protocol.</summary>
    public const int DefaultFolds = 10;

    /// <summary>Reads a pair list, detecting its format from its first line.</summary>
    /// <exception cref="InvalidDataException">The file is in neither format, or is inconsistent; the message names the line.</exception>
    public static PairSet Load(string pairsPath, string imagesDirectory)
    {
        var lines = File.ReadAllLines(pairsPath);
        int first = 0;
        while (first < lines.Length && lines[first].Trim().Length == 0)
        {
            first++;
        }

        if (first == lines.Length)
        {
            throw new InvalidDataException($"{pairsPath} is empty.");
        }

        return lines[first].Contains(',', StringComparison.Ordinal)
            ? ParseCsv(pairsPath, lines, first, imagesDirectory)
            : ParseLfw(pairsPath, lines, first, imagesDirectory);
    }

    private static PairSet ParseLfw(string source, string[] lines, int headerLine, string images)
    {
        var header = Split(lines[headerLine]);
        int folds, perClass;
        if (header.Length == 2 && TryInt(header[0], out int viewFolds) && TryInt(header[1], out int viewPairs))
        {
            (folds, perClass) = (viewFolds, viewPairs);
        }
        else if (header.Length == 1 && TryInt(header[0], out int setPairs))
        {
            (folds, perClass) = (1, setPairs);
        }
        else
        {
            throw Bad(source, headerLine, "expected a header 'folds<TAB>pairs-per-class' (LFW pairs.txt) or 'file_x,file_y,Decision' (deepface CSV)");
        }

        if (folds < 1 || perClass < 1)
        {
            throw Bad(source, headerLine, "the fold count and pairs per class must be positive");
        }

        var pairs = new List<VerificationPair>(folds * perClass * 2);
        int line = headerLine + 1;
        for (int fold = 0; fold < folds; fold++)
        {
            for (int k = 0; k < 2 * perClass; k++, line++)
            {
                while (line < lines.Length && lines[line].Trim().Length == 0)
                {
                    line++;
                }

                if (line >= lines.Length)
                {
                    throw Bad(source, line - 1, $"the header announces {folds} × {2 * perClass} pairs but the file ends after {pairs.Count}");
                }

                bool same = k < perClass;
                var f = Split(lines[line]);
                if (same && f.Length == 3 && TryInt(f[1], out int i) && TryInt(f[2], out int j))
                {
                    pairs.Add(new VerificationPair(LfwPath(images, f[0], i), LfwPath(images, f[0], j), true, fold));
                }
                else if (!same && f.Length == 4 && TryInt(f[1], out i) && TryInt(f[3], out j))
                {
                    pairs.Add(new VerificationPair(LfwPath(images, f[0], i), LfwPath(images, f[2], j), false, fold));
                }
                else
                {
                    throw Bad(source, line, same ? "expected a same-person line 'Name<TAB>i<TAB>j'" : "expected a different-person line 'Name1<TAB>i<TAB>Name2<TAB>j'");
                }
            }
        }

        if (folds == 1)
        {
            return new PairSet(Deal(pairs, DefaultFolds), DefaultFolds, "LFW pairs (one set, dealt into folds)");
        }

        return new PairSet(pairs, folds, "LFW pairs");
    }

    private static PairSet ParseCsv(string source, string[] lines, int headerLine, string images)
    {
        var header = lines[headerLine].Split(',');
        int ix = Array.FindIndex(header, h => h.Trim().Equals("file_x", StringComparison.OrdinalIgnoreCase));
        int iy = Array.FindIndex(header, h => h.Trim().Equals("file_y", StringComparison.OrdinalIgnoreCase));
        int id = Array.FindIndex(header, h => h.Trim().Equals("Decision", StringComparison.OrdinalIgnoreCase));
        if (ix < 0 || iy < 0 || id < 0)
        {
            throw Bad(source, headerLine, "a CSV pair list needs the columns file_x, file_y and Decision");
        }

        var pairs = new List<VerificationPair>();
        for (int line = headerLine + 1; line < lines.Length; line++)
        {
            if (lines[line].Trim().Length == 0)
            {
                continue;
            }

            var f = lines[line].Split(',');
            if (f.Length <= Math.Max(ix, Math.Max(iy, id)))
            {
                throw Bad(source, line, $"expected {header.Length} comma-separated fields");
            }

            bool same = f[id].Trim().ToUpperInvariant() switch
            {
                "YES" or "1" or "TRUE" or "SAME" => true,
                "NO" or "0" or "FALSE" or "DIFFERENT" => false,
                _ => throw Bad(source, line, $"Decision must be Yes or No, not '{f[id].Trim()}'"),
            };
            pairs.Add(new VerificationPair(Path.Combine(images, f[ix].Trim()), Path.Combine(images, f[iy].Trim()), same, 0));
        }

        if (pairs.Count == 0)
        {
            throw Bad(source, headerLine, "the file holds no pairs");
        }

        return new PairSet(Deal(pairs, DefaultFolds), DefaultFolds, "CSV file_x,file_y,Decision (dealt into folds)");
    }

    /// <summary>Assigns folds round-robin within each class, in file order.</summary>
    private static List<VerificationPair> Deal(List<VerificationPair> pairs, int folds)
    {
        var dealt = new List<VerificationPair>(pairs.Count);
        int sameSeen = 0, differentSeen = 0;
        foreach (var pair in pairs)
        {
            int fold = pair.Same ? sameSeen++ % folds : differentSeen++ % folds;
            dealt.Add(pair with { Fold = fold });
        }

        return dealt;
    }

    private static string LfwPath(string images, string name, int number) =>
        Path.Combine(images, name, string.Create(CultureInfo.InvariantCulture, $"{name}_{number:D4}.jpg"));

    private static string[] Split(string line) => line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool TryInt(string text, out int value) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static InvalidDataException Bad(string source, int line, string why) => new($"{source}, line {line + 1}: {why}.");
}
