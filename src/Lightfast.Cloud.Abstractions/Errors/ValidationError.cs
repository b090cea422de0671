namespace Lightfast.Cloud.Errors;

/// <summary>One problem found in input, with the path of the offending value (<c>servers[2].url</c>).</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ValidationError")]
public sealed record ValidationError([property: Id(0)] string Path, [property: Id(1)] string Message)
{
    public override string ToString() => string.IsNullOrEmpty(Path) ? Message : $"{Path}: {Message}";
}
