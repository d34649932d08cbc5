// Components for the `echo` graph (tests/api/test_ui.py): a message `{"name": "greeting",
// "props": {"who": ...}}` renders <Greeting who=... />.
import "./echo.css";
import { useState } from "react";

function Greeting(props: { who?: string }) {
  const [clicks, setClicks] = useState(0);
  return (
    <div className="greeting">
      <p data-testid="greeting">Hello, {props.who ?? "world"}!</p>
      <button onClick={() => setClicks(clicks + 1)}>clicked {clicks}</button>
    </div>
  );
}

function Farewell() {
  return <p data-testid="farewell">Goodbye</p>;
}

export default { greeting: Greeting, farewell: Farewell };
