using System.Text.Json;
using System.Text.Json.Serialization;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Servers.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Lightfast.Cloud.Servers.Configuration;

/// <summary>
/// Reads a servers file, YAML (<c>.yaml</c>, <c>.yml</c>) or JSON (<c>.json</c>), both with the schema of
/// <see cref="ServersFileSpec"/>. Unknown keys are errors (a typo must not silently drop a setting). All or
/// nothing: any problem throws a <see cref="ConfigurationException"/> listing every problem with its path.
/// </summary>
public static class ServersFileLoader
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static IReadOnlyList<ServerDefinition> Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new ConfigurationException($"Servers file '{path}' does not exist.", [new ValidationError(path, "file not found")]);
        }

        var text = File.ReadAllText(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".json" => ParseJson(text, path),
            ".yaml" or ".yml" => ParseYaml(text, path),
            _ => throw new ConfigurationException(
                $"Servers file '{path}' must end in .yaml, .yml or .json.",
                [new ValidationError(path, "unknown file type: use .yaml, .yml or .json")]),
        };
    }

    public static IReadOnlyList<ServerDefinition> ParseYaml(string yaml, string source = "servers file")
    {
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(CamelCaseNamingConvention.Instance)
            .Build();
        ServersFileSpec? spec;
        try
        {
            spec = deserializer.Deserialize<ServersFileSpec?>(yaml);
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException?.Message ?? ex.Message;
            throw new ConfigurationException(
                $"Servers file '{source}' is not valid: line {ex.Start.Line}, column {ex.Start.Column}: {message}",
                [new ValidationError($"line {ex.Start.Line}, column {ex.Start.Column}", message)]);
        }

        return ToDefinitions(spec, source);
    }

    public static IReadOnlyList<ServerDefinition> ParseJson(string json, string source = "servers file")
    {
        ServersFileSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<ServersFileSpec>(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) ? "$" : ex.Path;
            throw new ConfigurationException(
                $"Servers file '{source}' is not valid JSON at {path}: {ex.Message}",
                [new ValidationError(path, ex.Message)]);
        }

        return ToDefinitions(spec, source);
    }

    private static IReadOnlyList<ServerDefinition> ToDefinitions(ServersFileSpec? spec, string source)
    {
        var errors = new List<ValidationError>();
        var definitions = ServerSpecValidator.ToDefinitions(spec, errors);
        if (errors.Count > 0)
        {
            throw new ConfigurationException(
                $"Servers file '{source}' has {errors.Count} problem(s); nothing was loaded:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", errors)}",
                errors);
        }

        return definitions;
    }
}
