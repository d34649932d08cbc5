// A component with no stylesheet, under a graph id that is not a JavaScript name.
export default {
  card: (props) => <section data-testid="card">card for {props.who}</section>,
};
