/** One choice of a server-side filter. */
export interface FilterOption {
  /** The query value sent to the API ("" for no filter). */
  value: string;
  /** What the option shows. */
  label: string;
}

/** A search form with one select over a list's states (Drift events, ITSM records):
 * choosing one calls `onChange` with its value. */
export function StateFilter({
  label,
  value,
  options,
  onChange,
}: {
  /** The select's label. */
  label: string;
  value: string;
  options: FilterOption[];
  onChange: (value: string) => void;
}) {
  return (
    <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
      <label>
        {label}{" "}
        <select value={value} onChange={(e) => onChange(e.target.value)}>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}
